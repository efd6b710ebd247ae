/**
 * Dump throughput: a synthetic I-80 slot (data/synth) turned into an episode dataset by
 * `ppuu data dump`'s pipeline (sim/io/dump.ts) with --workers N, against a one-worker baseline
 * measured in the same run on the first tenth of the same slot's episodes (frames per second,
 * so the two compare; also per CPU second of the process, worker threads included, which other
 * load on the machine disturbs less). The target is a full 15-minute slot in under 10 minutes
 * on 2 cores.
 *
 *   npm run bench -- dump [--minutes 15] [--workers 2] [--keep DIR]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic } from '../data/synth/generate.js';
import { dumpDataset } from '../sim/io/dump.js';
import { writeEpisodeJob } from '../sim/io/dump-job.js';
import { findTrackStores, loadReplay } from '../sim/io/replay-input.js';
import { validRange } from '../sim/episode.js';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1]!;
}
const minutes = Number(flag('minutes', '15'));
const workers = Number(flag('workers', '2'));
const keep = flag('keep', '');

const tmp = mkdtempSync(join(tmpdir(), 'ppuu-bench-dump-'));
try {
  const synthDir = join(tmp, 'synth');
  const s0 = performance.now();
  await generateSynthetic(synthDir, { slots: ['0400-0415'], minutes, seed: 1 });
  const synthS = (performance.now() - s0) / 1000;
  const [ref] = findTrackStores(synthDir);
  const data = loadReplay(ref!);

  // Baseline: one thread, the first tenth of the episodes.
  const eps = data.cars.filter((c) => {
    const [a, b] = validRange(data, c);
    return b > a;
  });
  const sample = eps.slice(0, Math.max(1, Math.floor(eps.length / 10)));
  const baseOut = join(tmp, 'baseline');
  const b0 = performance.now();
  const bc0 = process.cpuUsage();
  let baseFrames = 0;
  await writeEpisodeJob(
    { out: baseOut, variant: 'paper', stores: [ref!.dir], episodes: sample.map((c) => ({ id: `b_${c.id}`, store: 0, vehicleId: c.id })) },
    () => {},
  );
  for (const c of sample) {
    const [a, b] = validRange(data, c);
    baseFrames += b - a;
  }
  const baseS = (performance.now() - b0) / 1000;
  const bc = process.cpuUsage(bc0);
  const baseCpuS = (bc.user + bc.system) / 1e6;

  const out = keep || join(tmp, 'dataset');
  const d0 = performance.now();
  const dc0 = process.cpuUsage();
  const summary = await dumpDataset({ trajectories: synthDir, out, workers });
  const dumpS = (performance.now() - d0) / 1000;
  const dc = process.cpuUsage(dc0);
  const dumpCpuS = (dc.user + dc.system) / 1e6;
  const result = {
    bench: 'dump',
    minutes,
    workers: summary.workers,
    synthSeconds: Number(synthS.toFixed(1)),
    episodes: summary.episodes,
    frames: summary.frames,
    dumpSeconds: Number(dumpS.toFixed(1)),
    framesPerS: Math.round(summary.frames / dumpS),
    cpuSeconds: Number(dumpCpuS.toFixed(1)),
    framesPerCpuS: Math.round(summary.frames / dumpCpuS),
    baselineWorkers: 1,
    baselineEpisodes: sample.length,
    baselineFramesPerS: Math.round(baseFrames / baseS),
    baselineFramesPerCpuS: Math.round(baseFrames / baseCpuS),
    speedupVsBaseline: Number((summary.frames / dumpS / (baseFrames / baseS)).toFixed(2)),
    targetSeconds: minutes >= 15 ? 600 : null,
    meetsTarget: minutes >= 15 ? dumpS < 600 : null,
  };
  process.stderr.write(`dumped ${result.episodes} episodes / ${result.frames} frames in ${result.dumpSeconds} s with ${result.workers} workers (${result.framesPerS} frames/s; one worker ${result.baselineFramesPerS} frames/s)\n`);
  console.log(JSON.stringify(result));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
