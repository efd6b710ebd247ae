/** Worker thread of `ppuu data dump`: runs one DumpJob and reports each episode written. */
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../../common/errors.js';
import { fsErrorMessage } from '../../common/fs-errors.js';
import { writeEpisodeJob, type DumpJob } from './dump-job.js';

const { job } = workerData as { job: DumpJob };
try {
  await writeEpisodeJob(job, (id) => parentPort!.postMessage({ type: 'episode', id }));
} catch (e) {
  // A user's mistake (or a file-system failure on their --out) stays one for the main thread.
  const fsMessage = fsErrorMessage(e);
  parentPort!.postMessage({ type: 'error', message: fsMessage ?? (e as Error).message, user: fsMessage !== null || e instanceof UserError });
}
