/**
 * Runs every cleanup in order, each even when an earlier one threw (a step may be `undefined` when
 * the resource was never made), then throws an `AggregateError` of the failures (`message`), if any:
 * the shape every `close()` takes, so one failing part never leaves the others open.
 */
export async function closeAll(message: string, steps: readonly (() => unknown)[]): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      failures.push(err);
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, message);
}
