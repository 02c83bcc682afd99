// Stopping under one deadline: each stage gets what is left of the time, so a whole stop takes at most the timeout.

/** One step of a stop; `remainingMs` is what is left of the shared deadline (0 when it has passed). */
export type StopStage = (remainingMs: number) => Promise<unknown>;

/**
 * Runs the stages in order against one deadline.
 * @example await stopInOrder([() => server.close(), (ms) => intake.stop(ms), (ms) => lanes.stop(ms)], 15_000);
 */
export async function stopInOrder(stages: readonly StopStage[], timeoutMs: number, now: () => number = Date.now): Promise<void> {
  const deadline = now() + timeoutMs;
  for (const stage of stages) await stage(Math.max(0, deadline - now()));
}
