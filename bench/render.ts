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
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { patternSource } from '../test/renderer/helpers/pattern-source.js';
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

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

/** The viewer server with imagination, in its own process (as the app's server is apart from the page): bench/_render-server.ts. */
async function imaginationServer(nCars: number, frames: number): Promise<{ url: string; close(): Promise<void> }> {
  const script = join(dirname(fileURLToPath(import.meta.url)), '_render-server.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, String(nCars), String(frames)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((done, fail) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^url (\S+)$/m.exec(out);
      if (m) done(m[1]!);
    });
    child.on('exit', (code) => fail(new Error(`imagination server exited (${code})`)));
  });
  return { url, close: async () => void child.kill('SIGTERM') };
}

async function measure(nCars: number, imagination = false): Promise<Measure> {
  const frames = Math.ceil(seconds * 80) + 200;
  const server = imagination
    ? await imaginationServer(nCars, frames)
    : await startViewerServer(new ViewerService({ scenarioDirs: [], createSource: async () => patternSource({ cars: nCars, frames, observation: true }) }), 0);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: exe!, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 1 });
    if (process.env.BENCH_DEBUG) page.on('console', (m) => process.stderr.write(`console ${m.type()}: ${m.text()}\n`)), page.on('pageerror', (e) => process.stderr.write(`pageerror: ${e.message}\n`));
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
    // Loop the episode: the page keeps playing while this process (also the server, busy imagining) is slow to measure.
    await page.evaluate(() => {
      let busy = false;
      setInterval(() => {
        const v = window.ppuuViewer!;
        if (busy || v.state().playing) return;
        busy = true;
        void v.seek(0).then(() => (v.play(), (busy = false)));
      }, 100);
    });
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
      ...(imagination ? { imagination: await page.evaluate(() => ({ ...window.ppuuViewer!.imagination, error: window.ppuuViewer!.error, last: window.ppuuViewer!.imagined?.index ?? null })) } : {}),
      ...(imagination ? { imaginationsPerS: round((await page.evaluate(() => window.ppuuViewer!.imagination.answered) - im0) / ((Date.now() - t0) / 1000), 2) } : {}),
    };
  } finally {
    await browser.close();
    await server.close();
  }
}

const baseline = await measure(1);
const result = await measure(cars);
const imagining = await measure(cars, true);
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
