// Entry of the dump worker threads: registers tsx's loader in this thread, then runs the
// TypeScript worker module named in workerData.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
