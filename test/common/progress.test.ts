/**
 * Progress off a terminal (common/progress.ts): one line every interval with counts, percentage,
 * ETA (shown as '-' until a rate is known) and extra fields, a last line when work ends, nothing
 * with --json; ETA formatting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgress, formatEta, progressMode } from '../../common/progress.js';

test('off a terminal: a line every interval, then a last one; none with --json', () => {
  let t = 0;
  const lines: string[] = [];
  const p = createProgress('train fm', 100, { mode: 'lines', unit: 'steps', intervalS: 10, now: () => t, write: (s) => lines.push(s) });
  p.update(0, { loss: '-' });
  t = 5000;
  p.update(10, { loss: '0.5' });
  assert.deepEqual(lines, [], 'nothing before the first interval');
  t = 10_000;
  p.update(20, { loss: '0.4' });
  t = 15_000;
  p.update(30);
  t = 20_500;
  p.update(41, { loss: '0.3' });
  p.stop();
  assert.deepEqual(lines, [
    'train fm: 20/100 steps (20 %), eta 40s, loss 0.4\n',
    'train fm: 41/100 steps (41 %), eta 30s, loss 0.3\n',
    'train fm: 41/100 steps (41 %), 21s elapsed, loss 0.3\n',
  ]);
  const quiet: string[] = [];
  const q = createProgress('x', 10, { json: true, write: (s) => quiet.push(s) });
  q.update(5);
  q.stop();
  assert.deepEqual(quiet, []);
  assert.equal(progressMode(true), 'none');
  // A parent that reads the JSON on stdout (ppuu pipeline) asks for lines on stderr anyway.
  const had = process.env.PPUU_PROGRESS;
  process.env.PPUU_PROGRESS = 'lines';
  try {
    assert.equal(progressMode(true), 'lines');
  } finally {
    if (had === undefined) delete process.env.PPUU_PROGRESS;
    else process.env.PPUU_PROGRESS = had;
  }
});

test('the ETA is "-" until the rate is known; short work prints nothing', () => {
  let t = 0;
  const lines: string[] = [];
  const p = createProgress('dump', 1, { mode: 'lines', unit: 'episodes', intervalS: 1, now: () => t, write: (s) => lines.push(s) });
  p.setTotal(50);
  t = 2000;
  p.update(0);
  assert.deepEqual(lines, ['dump: 0/50 episodes (0 %), eta -\n']);
  const none: string[] = [];
  const s = createProgress('quick', 3, { mode: 'lines', intervalS: 10, now: () => 0, write: (x) => none.push(x) });
  s.update(3);
  s.stop();
  assert.deepEqual(none, []);
  assert.deepEqual([formatEta(null), formatEta(Infinity), formatEta(9.4), formatEta(185), formatEta(7800)], ['-', '-', '9s', '3m05s', '2h10m']);
});
