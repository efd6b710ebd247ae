/** Worker thread of `ppuu data dump`: runs one DumpJob and reports each episode written. */
import { parentPort, workerData } from 'node:worker_threads';
import { writeEpisodeJob, type DumpJob } from './dump-job.js';

const { job } = workerData as { job: DumpJob };
try {
  await writeEpisodeJob(job, (id) => parentPort!.postMessage({ type: 'episode', id }));
} catch (e) {
  parentPort!.postMessage({ type: 'error', message: (e as Error).message });
}
