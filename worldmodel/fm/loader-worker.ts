/**
 * Worker thread that builds training batches ahead of the compute: it opens the dataset, then
 * answers each {type: 'want', step} with that step's batch (arrays transferred, not copied).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDataset } from '../../data/dataset.js';
import { UserError } from '../../common/errors.js';
import { EpisodeCache } from './episode-cache.js';
import { makeBatch, type BatchSpec } from './batches.js';
import { batchBuffers } from './windows.js';

interface Init {
  datasetDir: string;
  spec: BatchSpec;
  cacheBytes: number;
}

const init = workerData.init as Init;
const port = parentPort!;
try {
  const source = new EpisodeCache(openDataset(init.datasetDir), init.cacheBytes);
  const metas = source.episodes(init.spec.split);
  port.on('message', (msg: { type: 'want'; step: number }) => {
    try {
      const batch = makeBatch(source, metas, init.spec, msg.step);
      port.postMessage({ type: 'batch', step: msg.step, batch }, batchBuffers(batch));
    } catch (e) {
      port.postMessage({ type: 'error', step: msg.step, message: (e as Error).message, user: e instanceof UserError });
    }
  });
  port.postMessage({ type: 'ready' });
} catch (e) {
  port.postMessage({ type: 'error', step: -1, message: (e as Error).message, user: e instanceof UserError });
}
