// Entry of this project's worker threads: registers tsx (so the TypeScript sources load in the
// worker whatever way the parent was started), then imports the worker module named in workerData.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
