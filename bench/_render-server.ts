/**
 * The render benchmark's viewer server with imagination (run by bench/render.ts in a child
 * process): the pattern traffic of `cars` cars and `frames` frames, and an untrained tiny VAE
 * imagining from the bot's observations and states through the app's imagination code.
 * Prints "url URL" once listening.
 *
 *   node --import tsx bench/_render-server.ts CARS FRAMES
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ViewerService } from '../renderer/server/viewer-service.js';
import { startViewerServer } from '../renderer/server/http-server.js';
import type { EpisodeSource } from '../renderer/server/episode-source.js';
import { loadImagination } from '../renderer/server/imagination.js';
import type { Imagination } from '../renderer/server/imagination.js';
import { patternCar, patternSource } from '../test/renderer/helpers/pattern-source.js';

/** An untrained tiny VAE saved to a temporary folder and loaded as the app loads a scenario's world model. */
async function tinyImagination(): Promise<Imagination> {
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

const cars = Number(process.argv[2] ?? 200);
const frames = Number(process.argv[3] ?? 600);
const imagination = await tinyImagination();
const { getBackend } = await import('@tensorflow/tfjs');
process.stderr.write(`imagination backend: ${getBackend()}\n`);
const service = new ViewerService({ scenarioDirs: [], createSource: async () => withImagination(patternSource({ cars, frames, observation: true }), imagination) });
const server = await startViewerServer(service, 0);
process.stdout.write(`url ${server.url}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
