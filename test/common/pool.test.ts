import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPool } from '../../common/pool.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('runPool runs every job, never more than the limit at once, in list order of starting', async () => {
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const jobs = [30, 5, 5, 20, 5].map((ms, i) => async () => {
    started.push(i);
    running++;
    peak = Math.max(peak, running);
    await tick(ms);
    running--;
  });
  await runPool(jobs, 2);
  assert.equal(peak, 2);
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  started.length = 0;
  peak = 0;
  await runPool(jobs, 1);
  assert.equal(peak, 1);
});

test('runPool: after a failure no new job starts, the running one finishes, the first error is thrown', async () => {
  const done: string[] = [];
  const jobs = [
    async () => {
      await tick(30);
      done.push('slow');
    },
    async () => {
      await tick(5);
      throw new Error('boom');
    },
    async () => {
      done.push('never');
    },
  ];
  await assert.rejects(runPool(jobs, 2), /boom/);
  assert.deepEqual(done, ['slow']);
  await assert.rejects(runPool([], 0), /limit/);
});
