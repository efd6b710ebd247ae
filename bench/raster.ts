/**
 * Car-centred observations per second: the run-based rasteriser (sim/raster/rasteriser.ts)
 * against the naive baseline measured in the same run (render the 468 x 96 crop pixel by pixel,
 * then resize with the triangle filter: sim/raster/naive.ts), on synthetic I-80 traffic. Every
 * car inside the validity window at a sample of frames is observed. Throughput is given per
 * wall-clock second and per CPU second of this thread (the per-core figure, robust to other
 * load on the machine). Also checks that both paths give the same pixels and costs.
 *
 *   npm run bench -- raster [--minutes 2] [--seconds 4] [--variant paper|offroad] [--naive 60]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic } from '../data/synth/generate.js';
import { readTrackStore } from '../data/track-store.js';
import { I80_MAP } from '../sim/map.js';
import { naiveObserve } from '../sim/raster/naive.js';
import { Rasteriser, type ImageVariant } from '../sim/raster/rasteriser.js';
import { ReplayData } from '../sim/replay.js';
import { Scene } from '../sim/scene.js';
import { IMAGE_H, IMAGE_W } from '../data/layout.js';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1]!;
}
const minutes = Number(flag('minutes', '2'));
const seconds = Number(flag('seconds', '4'));
const naiveCount = Number(flag('naive', '60'));
const variant = flag('variant', 'paper') as ImageVariant;

const tmp = mkdtempSync(join(tmpdir(), 'ppuu-bench-raster-'));
try {
  await generateSynthetic(join(tmp, 'synth'), { slots: ['0400-0415'], minutes, seed: 1 });
  const data = ReplayData.fromTrackStore(I80_MAP, readTrackStore(join(tmp, 'synth', '0400-0415')));

  // Work list: (frame, car) pairs inside the validity window, every 10th frame.
  const work: Array<[number, number]> = [];
  for (let f = data.firstFrame; f <= data.lastFrame; f += 10) {
    for (const i of data.carsAt(f)) {
      const c = data.cars[i]!;
      const k = f - c.firstFrame;
      if (c.x[k]! > I80_MAP.validMinXPx && c.x[k]! + c.dirX[k]! * c.lengthPx < I80_MAP.validMaxXPx) work.push([f, c.id]);
    }
  }
  const R = new Rasteriser(I80_MAP, variant);
  const out = new Uint8Array(IMAGE_H * IMAGE_W * R.channels);
  const scene = new Scene(256);
  const observe = (j: number) => {
    const [f, id] = work[j % work.length]!;
    scene.fromReplay(data, f);
    return R.observe(scene, scene.indexOf(id), out);
  };
  for (let j = 0; j < 2000; j++) observe(j); // warm-up

  let n = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) for (let b = 0; b < 100; b++) observe(n++);
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;

  // Naive baseline on a spread sample, checking pixels and costs on the way.
  let maxDiff = 0;
  let sumDiff = 0;
  let costDiff = 0;
  const nc0 = process.cpuUsage();
  const nt0 = performance.now();
  for (let s = 0; s < naiveCount; s++) {
    const [f, id] = work[Math.floor((s * work.length) / naiveCount)]!;
    scene.fromReplay(data, f);
    const ego = scene.indexOf(id);
    const { image, costs } = naiveObserve(I80_MAP, scene, ego, variant);
    const c = R.observe(scene, ego, out);
    for (let p = 0; p < out.length; p++) {
      const d = Math.abs(out[p]! - image[p]!);
      maxDiff = Math.max(maxDiff, d);
      sumDiff += d;
    }
    costDiff = Math.max(costDiff, Math.abs(c.proximity - costs.proximity), Math.abs(c.lane - costs.lane), Math.abs(c.offroad - costs.offroad));
  }
  const naiveWallS = (performance.now() - nt0) / 1000;
  const nc = process.cpuUsage(nc0);
  const naiveCpuS = (nc.user + nc.system) / 1e6;

  const fastPerCpuS = n / cpuS;
  const naivePerCpuS = naiveCount / naiveCpuS;
  const result = {
    bench: 'raster',
    variant,
    cars: data.cars.length,
    observationsTimed: n,
    fastObsPerS: Math.round(n / wallS),
    fastObsPerCpuS: Math.round(fastPerCpuS),
    naiveObsPerS: Number((naiveCount / naiveWallS).toFixed(2)),
    naiveObsPerCpuS: Number(naivePerCpuS.toFixed(2)),
    speedupVsNaive: Math.round(fastPerCpuS / naivePerCpuS),
    naiveSamples: naiveCount,
    maxPixelDiff: maxDiff,
    meanPixelDiff: Number((sumDiff / (naiveCount * out.length)).toExponential(2)),
    maxCostDiff: costDiff,
    targetObsPerCpuS: 5000,
    meetsTarget: fastPerCpuS >= 5000,
  };
  process.stderr.write(`fast ${result.fastObsPerCpuS} obs per CPU-s (${result.fastObsPerS} per wall-s), naive ${result.naiveObsPerCpuS} per CPU-s, x${result.speedupVsNaive}; pixel diff max ${maxDiff}\n`);
  console.log(JSON.stringify(result));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
