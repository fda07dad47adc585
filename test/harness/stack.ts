import { type Stack, type StackOptions, startStack } from '../../local/stack.ts';

export type { Stack } from '../../local/stack.ts';

/**
 * local/stack.ts's `startStack` for one test file (call `stop()` in `afterAll`). With
 * `STACK_LOGS=1` the services' lines are printed, prefixed with their name.
 */
export function startTestStack(options: StackOptions = {}): Promise<Stack> {
  const echo =
    process.env.STACK_LOGS === '1'
      ? (service: string, line: string) => process.stdout.write(`[${service}] ${line}\n`)
      : undefined;
  return startStack({ onLine: echo, ...options });
}
