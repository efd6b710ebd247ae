/**
 * Viewer frame rate in headless Chromium with software WebGL (SwiftShader): the page plays a
 * stream of `--cars` cars (default 200) fast enough that every animation frame shows a new
 * simulation frame, and we count the frames it draws per second, in one-second windows (median
 * and best window reported, since other processes share the CPU that rasterises). Baseline, same
 * run and viewport: the bot alone on the same road (1 car). Also reports the CPU time of the
 * three.js render call and the time of a render forced to finish (render + 1-pixel readPixels,
 * which waits for the rasteriser), the cost the frame rate is bounded by.
 *
 * In the same run, the 200 cars again with imagination on: an untrained tiny world model
 * (worldmodel/fm, the app's imagination code, MC dropout) imagines from the frame on screen while
 * the page plays, as in the app (one request in flight, frames in between dropped); reported:
 * the frame rate and how many imaginations the page showed per second.
 *
 *   npm run bench -- render [--cars 200] [--seconds 5] [--width 1280] [--height 720]
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { ViewerService } from '../renderer/server/viewer-service.js';
import { startViewerServer } from '../renderer/server/http-server.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { patternCar, patternSource } from '../test/renderer/helpers/pattern-source.js';
import type { EpisodeSource } from '../renderer/server/episode-source.js';
import { loadImagination } from '../renderer/server/imagination.js';
import type { Imagination } from '../renderer/server/imagination.js';
import { CHROMIUM_ARGS, chromiumPath } from '../test/renderer/helpers/browser.js';

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) {
    process.stderr.write(`--${name} must be a number >= 0\n`);
    process.exit(2);
  }
  return v;
}

const cars = flag('cars', 200);
const seconds = flag('seconds', 5);
const width = flag('width', 1280);
const height = flag('height', 720);

const exe = chromiumPath();
if (!exe || !existsSync(exe)) {
  process.stderr.write('Chromium not found at /usr/bin/chromium (apt-get install chromium)\n');
  process.exit(2);
}

interface Measure {
  cars: number;
  fps: number;
  fpsBestWindow: number;
  renderMsMean: number;
  finishedRenderMs: number;
  framesDrawn: number;
  simFramesAdvanced: number;
  imaginationsPerS?: number;
}

/** An untrained tiny VAE saved to a temporary folder and loaded as the app loads a scenario's world model. */
async function tinyImagination(): Promise<Imagination> {
  process.env.TFJS_BACKEND ??= 'cpu';
  const { fmConfig } = await import('../worldmodel/fm/config.js');
  const { ForwardModel } = await import('../worldmodel/fm/model.js');
  const { saveFm } = await import('../worldmodel/fm/checkpoint.js');
  const { initFmBackend } = await import('../worldmodel/fm/setup.js');
  await initFmBackend(process.env.TFJS_BACKEND);
  const cfg = fmConfig('tiny');
  const m = ForwardModel.create(cfg, 'vae', 5);
  const dir = join(mkdtempSync(join(tmpdir(), 'ppuu-bench-fm-')), 'fm');
  const stats = { stateMean: [900, 100, 60, 0], stateStd: [400, 40, 20, 1], actionMean: [0, 0], actionStd: [10, 0.002] };
  await saveFm(dir, m, { format: 'ppuu-fm', version: 1, kind: 'vae', preset: 'tiny', config: cfg, stats, dataset: null, steps: 0, paramCount: m.paramCount(), writtenBy: 'bench' });
  m.dispose();
  return loadImagination(dir, 10, 8, 'bench');
}

/** The pattern source with the world model imagining from its observations and the bot's states. */
function withImagination(src: EpisodeSource, im: Imagination): EpisodeSource {
  return {
    ...src,
    get total() {
      return src.total;
    },
    get ended() {
      return src.ended;
    },
    frame: (i) => src.frame(i),
    description: { ...src.description, imagination: { horizon: im.horizon, samples: im.samples, contextFrames: im.ncond } },
    imagine: async (index) => {
      if (index + 1 < im.ncond) return null;
      const frames = await Promise.all(Array.from({ length: im.ncond }, (_, k) => src.frame(index + 1 - im.ncond + k)));
      const states = frames.map((f, k) => {
        const c = patternCar(0, index + 1 - im.ncond + k);
        return Float32Array.from([c.xPx, c.yPx, c.speedPxPerS, 0]);
      });
      return im.imagine({ images: frames.map((f) => f!.observation!), states, actions: Array.from({ length: im.horizon }, () => [0, 0] as [number, number]) }, index);
    },
  };
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

async function measure(nCars: number, imagination: Imagination | null = null): Promise<Measure> {
  const frames = Math.ceil(seconds * 80) + 200;
  const service = new ViewerService({
    scenarioDirs: [],
    createSource: async () => {
      const src = patternSource({ cars: nCars, frames, observation: true });
      return imagination ? withImagination(src, imagination) : src;
    },
  });
  const server = await startViewerServer(service, 0);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: exe!, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 1 });
    await page.goto(server.url);
    await page.waitForFunction(() => window.ppuuViewer?.ready === true);
    const text = JSON.stringify({ name: 'bench', map: 'i80', dataset: { kind: 'synth', seed: 0, minutes: 1 }, ego: { kind: 'vehicles', ids: [0] }, controller: { kind: 'replay' }, display: { startPaused: true, playbackSpeed: 8 } });
    await page.evaluate((t) => window.ppuuViewer!.load({ text: t, name: 'bench.json' }), text);
    // Load every frame first so that the measurement is drawing only.
    await page.evaluate(async (n) => {
      for (let i = 0; i < n; i += 32) await window.ppuuViewer!.seek(i);
      await window.ppuuViewer!.seek(0);
    }, frames);
    const loaded = await page.evaluate(() => window.ppuuViewer!.state().loaded);
    if (loaded < frames) throw new Error(`only ${loaded} of ${frames} frames loaded`);
    // Rendering forced to finish, a few frames apart (the cost per drawn frame).
    const finished: number[] = [];
    for (let rep = 0; rep < 5; rep++) {
      finished.push(
        await page.evaluate(async () => {
          const v = window.ppuuViewer!;
          const gl = v.canvas().getContext('webgl2')!;
          const px = new Uint8Array(4);
          const t = performance.now();
          for (let i = 0; i < 10; i++) {
            await v.step(1);
            gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
          }
          return (performance.now() - t) / 10;
        }),
      );
    }
    await page.evaluate(() => window.ppuuViewer!.seek(0));
    await page.evaluate(() => window.ppuuViewer!.play());
    await page.waitForTimeout(500); // warm-up
    const windows: number[] = [];
    let drawn = 0;
    let renderMs = 0;
    let advanced = 0;
    const im0 = await page.evaluate(() => window.ppuuViewer!.imagination.answered);
    const t0 = Date.now();
    for (let w = 0; w < Math.max(1, Math.round(seconds)); w++) {
      const a = await page.evaluate(() => ({ ...window.ppuuViewer!.state(), t: performance.now() }));
      await page.waitForTimeout(1000);
      const b = await page.evaluate(() => ({ ...window.ppuuViewer!.state(), t: performance.now() }));
      windows.push((b.renderCount - a.renderCount) / ((b.t - a.t) / 1000));
      drawn += b.renderCount - a.renderCount;
      renderMs += b.renderMsTotal - a.renderMsTotal;
      advanced += b.index - a.index;
    }
    return {
      cars: nCars,
      fps: round(median(windows)),
      fpsBestWindow: round(Math.max(...windows)),
      renderMsMean: round(renderMs / Math.max(1, drawn), 2),
      finishedRenderMs: round(Math.min(...finished), 2),
      framesDrawn: drawn,
      simFramesAdvanced: advanced,
      ...(imagination ? { imaginationsPerS: round((await page.evaluate(() => window.ppuuViewer!.imagination.answered) - im0) / ((Date.now() - t0) / 1000), 2) } : {}),
    };
  } finally {
    await browser.close();
    await server.close();
  }
}

const baseline = await measure(1);
const result = await measure(cars);
const imagining = await measure(cars, await tinyImagination());
console.log(
  JSON.stringify({
    bench: 'render',
    viewport: `${width}x${height}`,
    seconds,
    renderer: 'three.js WebGL2, Chromium headless, SwiftShader',
    cars: result.cars,
    fps: result.fps,
    fpsBestWindow: result.fpsBestWindow,
    finishedRenderMs: result.finishedRenderMs,
    baselineBotAlone: { fps: baseline.fps, fpsBestWindow: baseline.fpsBestWindow, finishedRenderMs: baseline.finishedRenderMs },
    ratioToBaseline: round(result.fps / Math.max(1e-9, baseline.fps), 2),
    target: { fps: 30, met: result.fps >= 30 },
    withImagination: { fps: imagining.fps, fpsBestWindow: imagining.fpsBestWindow, imaginationsPerS: imagining.imaginationsPerS, target: { fps: 20, met: imagining.fps >= 20 } },
    cpus: cpus().length,
    loadAverage1m: round(loadavg()[0]!, 2),
    detail: { withCars: result, botAlone: baseline, withImagination: imagining },
  }),
);
