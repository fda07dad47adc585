// Kept only for test/harness/follower.ts, which imports the reducer from here: the reducer is
// board/boardState.ts now. Delete this file once the harness imports that instead.
export * from './board/boardState.ts';
