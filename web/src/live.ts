// Kept only for test/harness/follower.ts, which imports the reducer from here under its old names:
// it is board/boardState.ts now, and events are read with the contract's decodeEvent. Delete this
// file once the harness imports those instead.
export { decodeEvent as parseEvent } from '../../contract/events.ts';
export { applyEvent, type BoardState as LiveState, loading } from './board/boardState.ts';
