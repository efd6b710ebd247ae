import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { saveEbmModel, loadEbmModel, assertReplaceableModelDir } from '../../../worldmodel/ebm/store.js';
import { renderFilterGrid } from '../../../worldmodel/ebm/filters-png.js';
import { meanLocalisation, windowEnergyShare } from '../../../worldmodel/ebm/localisation.js';
import { tempDir } from '../../helpers/temp.js';

test('model folders round-trip and bad ones are refused with the file and field named', async () => {
  const dir = tempDir('ppuu-ebm-store-');
  try {
    const W = Float32Array.from({ length: 12 * 3 }, (_, i) => i / 10);
    await saveEbmModel(join(dir, 'm'), {
      kind: 'sparse', hyper: { atoms: 3, lambda: 0.1 }, arrays: { W: { data: W, shape: [12, 3] } },
      atoms: { array: 'W', patch: [2, 2, 3] }, encoder: null, training: { note: 'x' },
    });
    const { file, arrays } = await loadEbmModel(join(dir, 'm'));
    assert.equal(file.kind, 'sparse');
    assert.deepEqual(Array.from(arrays.W!.data), Array.from(W));
    assert.deepEqual(arrays.W!.shape, [12, 3]);
    // An atoms shape that does not match the patch is refused before anything is written.
    await assert.rejects(
      saveEbmModel(join(dir, 'bad'), { kind: 'sparse', hyper: {}, arrays: { W: { data: W, shape: [12, 3] } }, atoms: { array: 'W', patch: [3, 3, 3] }, encoder: null, training: {} }),
      /field atoms.patch/,
    );
    // The weights are a standard tfjs weight map.
    const manifest = JSON.parse(readFileSync(join(dir, 'm', 'model.json'), 'utf8'));
    assert.deepEqual(manifest.weightsManifest[0].weights.map((w: { name: string }) => w.name), ['W']);
    // A hand-edited ebm.json with an unknown kind, or a shape that the weights do not have.
    cpSync(join(dir, 'm'), join(dir, 'edited'), { recursive: true });
    writeFileSync(join(dir, 'edited', 'ebm.json'), JSON.stringify({ ...file, kind: 'gan' }));
    await assert.rejects(loadEbmModel(join(dir, 'edited')), /ebm\.json: field kind: must be one of/);
    writeFileSync(join(dir, 'edited', 'ebm.json'), JSON.stringify({ ...file, arrays: { W: { shape: [6, 6] } }, atoms: { array: 'W', patch: [1, 2, 3] } }));
    await assert.rejects(loadEbmModel(join(dir, 'edited')), /weight W: shape \[12,3\] where \[6,6\] is expected/);
    // --out guard: a non-empty folder that is not a model is not replaced.
    mkdirSync(join(dir, 'other'));
    writeFileSync(join(dir, 'other', 'notes.txt'), 'keep me');
    assert.throws(() => assertReplaceableModelDir(join(dir, 'other')), /not an ebm model folder/);
    assertReplaceableModelDir(join(dir, 'm'));
    assertReplaceableModelDir(join(dir, 'absent'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('filter grid: one tile per atom, zero is mid-grey, each atom scaled to its own maximum', () => {
  // Two atoms of 1x2 pixels, 3 channels; atoms matrix [6, 2] (row = pixel*3 + channel).
  const atom0 = [1, 0, 0, -1, 0, 0];
  const atom1 = [0, 0.5, 0, 0, 0, 0.25];
  const atoms = new Float32Array(12);
  for (let i = 0; i < 6; i++) {
    atoms[i * 2] = atom0[i]!;
    atoms[i * 2 + 1] = atom1[i]!;
  }
  const g = renderFilterGrid(atoms, [1, 2, 3], 2, { scale: 4, columns: 2 });
  const png = PNG.sync.read(Buffer.from(g.png));
  assert.equal(png.width, g.width);
  assert.equal(g.columns, 2);
  assert.equal(g.rows, 1);
  const px = (x: number, y: number) => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));
  const gap = 1;
  // Atom 0: pixel 0 full red, pixel 1 no red, green and blue at zero (128).
  assert.deepEqual(px(gap, gap), [255, 128, 128]);
  assert.deepEqual(px(gap + 4, gap), [1, 128, 128]);
  // Atom 1 (second tile): its max 0.5 maps to 255 in green; 0.25 blue maps to 192.
  const x1 = gap + 8 + gap;
  assert.deepEqual(px(x1, gap), [128, 255, 128]);
  assert.deepEqual(px(x1 + 4, gap), [128, 128, 192]);
  assert.throws(() => renderFilterGrid(atoms, [2, 2, 3], 2), /values for 2 atoms/);
});

test('localisation: one-pixel atoms score 1, flat atoms score the window share', () => {
  const dot = new Float64Array(16);
  dot[5] = 2;
  assert.equal(windowEnergyShare(dot, 4, 4, 1, 2), 1);
  const flat = new Float64Array(16).fill(1);
  assert.equal(windowEnergyShare(flat, 4, 4, 1, 2), 0.25);
  // Two atoms as columns of [16, 2]: mean of 1 and 0.25.
  const both = new Float64Array(32);
  for (let i = 0; i < 16; i++) {
    both[i * 2] = dot[i]!;
    both[i * 2 + 1] = flat[i]!;
  }
  assert.equal(meanLocalisation(both, [4, 4, 1], 2), 0.625);
});
