import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { writeTrackStore } from '../../data/track-store.js';
import { fmConfig } from '../../worldmodel/fm/config.js';
import { ForwardModel } from '../../worldmodel/fm/model.js';
import { saveFm } from '../../worldmodel/fm/checkpoint.js';
import type { FmHparams } from '../../worldmodel/fm/checkpoint.js';
import { ViewerService } from '../../renderer/server/viewer-service.js';
import { createScenarioSource } from '../../renderer/server/scenario-source.js';
import { loadImagination } from '../../renderer/server/imagination.js';
import { decodeMessage } from '../../renderer/protocol/codec.js';
import type { ImaginedFrames, SceneInfo } from '../../renderer/protocol/types.js';
import { miniTraffic } from '../scenarios/helpers/mini-traffic.js';
import { tempDir } from '../helpers/temp.js';

test('a scenario with a world model: imagined frames and their spread for a frame, from the actions taken', { timeout: 120_000 }, async () => {
  process.env.TFJS_BACKEND ??= 'wasm';
  const dir = tempDir('ppuu-imagine-');
  const tracks = join(dir, 'tracks');
  await writeTrackStore(tracks, miniTraffic({ durationS: 12 }));
  // An untrained tiny VAE: the point is the plumbing, not the picture.
  const cfg = fmConfig('tiny');
  const model = ForwardModel.create(cfg, 'vae', 5);
  const hp: FmHparams = {
    format: 'ppuu-fm',
    version: 1,
    kind: 'vae',
    preset: 'tiny',
    config: cfg,
    stats: { stateMean: [800, 100, 60, 0], stateStd: [400, 40, 20, 1], actionMean: [0, 0], actionStd: [5, 0.001] },
    dataset: null,
    steps: 0,
    paramCount: model.paramCount(),
    writtenBy: 'test',
  };
  await saveFm(join(dir, 'fm'), model, hp);
  model.dispose();
  const scenario = { name: 'wm', map: 'i80', dataset: { kind: 'tracks', path: 'tracks' }, ego: { kind: 'vehicles', ids: [2] }, controller: { kind: 'idm' }, worldModel: { path: 'fm', horizon: 3, samples: 4 } };
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'wm.json'), JSON.stringify(scenario));
  const service = new ViewerService({ rootDir: dir, scenarioDirs: [], createSource: createScenarioSource });
  const r = await service.loadScenario({ file: 'wm.json' });
  assert.ok(r.ok, JSON.stringify(r));
  const info = (r as { value: SceneInfo }).value;
  assert.deepEqual(info.imagination, { horizon: 3, samples: 4, contextFrames: cfg.ncond });

  const at = async (index: number) => decodeMessage<{ imagined: ImaginedFrames | null }>((await service.imagine(info.sessionId, index)) as Uint8Array).imagined;
  assert.equal(await at(cfg.ncond - 2), null, 'too little context');
  const im = (await at(40))!;
  assert.equal(im.steps, 3);
  assert.equal(im.frames.length, 3 * 117 * 24 * 3);
  assert.equal(im.spread.length, 3);
  // Dropout copies disagree, so the spread is positive; the mean images are real pixels.
  for (const v of im.spread) assert.ok(v > 0 && Number.isFinite(v), `spread ${v}`);
  assert.ok(new Set(im.frames).size > 20, 'the mean images are pictures, not a constant');
  // The same frame gives the same imagination (seeded).
  assert.deepEqual(Array.from((await at(40))!.spread), Array.from(im.spread));

  const bad = await service.loadScenario({ text: JSON.stringify({ ...scenario, worldModel: { path: 'tracks' } }), name: 'bad.json' });
  assert.match((bad as { error: string }).error, /^bad\.json: field \$\.worldModel\.path: .*not a forward-model checkpoint/);

  // The actions enter the imagination: hard braking and hard acceleration imagine different
  // frames; with the action MLP's output zeroed they imagine the same frames.
  const ctx = (a: number) => ({
    images: Array.from({ length: cfg.ncond }, (_, t) => Uint8Array.from({ length: 117 * 24 * 3 }, (_, i) => ((i * 7 + t * 13) % 5 === 0 ? 255 : 0))),
    states: Array.from({ length: cfg.ncond }, (_, t) => Float32Array.of(800 + 6 * t, 100, 60, 0)),
    actions: [[a, 0], [a, 0], [a, 0], [a, 0]] as Array<[number, number]>,
  });
  const differs = async (path: string) => {
    const imag = await loadImagination(path, 3, 4, 'worldModel');
    const fast = await imag.imagine(ctx(20), 1);
    const slow = await imag.imagine(ctx(-20), 1);
    imag.dispose();
    assert.equal(fast.steps, 3, 'horizon 3 of 4 actions');
    return fast.frames.some((v, i) => v !== slow.frames[i]);
  };
  assert.equal(await differs(join(dir, 'fm')), true, 'the frames depend on the actions');
  const deaf = ForwardModel.create(cfg, 'vae', 5);
  for (const n of ['act.fc3.w', 'act.fc3.b']) deaf.weights[n]!.assign(tf.zerosLike(deaf.weights[n]!));
  await saveFm(join(dir, 'deaf'), deaf, hp);
  deaf.dispose();
  assert.equal(await differs(join(dir, 'deaf')), false, 'a model that ignores its action');
  rmSync(dir, { recursive: true, force: true });
});
