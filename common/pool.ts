/**
 * Runs independent jobs with at most `limit` of them at once (in list order of starting). After
 * a failure no new job starts; the running ones are awaited and the first failure is thrown, so
 * no child process is left behind and an interrupted job's state is saved before the caller
 * sees the error.
 */
export async function runPool(jobs: ReadonlyArray<() => Promise<void>>, limit: number): Promise<void> {
  if (!(Number.isInteger(limit) && limit >= 1)) throw new Error(`runPool: limit must be an integer >= 1, got ${limit}`);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const lane = async (): Promise<void> => {
    while (failure === null && next < jobs.length) {
      const job = jobs[next++]!;
      try {
        await job();
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, lane));
  if (failure !== null) throw (failure as { error: unknown }).error;
}
