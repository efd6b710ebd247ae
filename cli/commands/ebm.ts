/**
 * `ppuu ebm train` and `ppuu ebm filters`: energy-based and sparse-coding models on state
 * images (worldmodel/ebm/), and the picture of their learned atoms.
 */
import type { Command } from 'commander';
import { createProgress } from '../../common/progress.js';
import { InvalidFlag, parseNumber, printJson, say } from '../output.js';
import { group } from '../main.js';

interface TrainFlags {
  kind: string;
  data: string;
  out: string;
  atoms?: number;
  patch?: number;
  lambda?: number;
  steps?: number;
  batch?: number;
  samples?: number;
  layers?: number;
  alpha?: number;
  cropRows?: number;
  lr?: number;
  seed?: number;
  split: string;
  maxImages: number;
  backend?: string;
  json?: boolean;
}

interface FiltersFlags {
  model: string;
  out: string;
  which: string;
  scale?: number;
  columns?: number;
  backend?: string;
  json?: boolean;
}

export function registerEbm(program: Command): void {
  const ebm = group(program, 'ebm', 'energy-based and sparse-coding models on state images (PCA, K-means, sparse coding, LISTA, PSD, conv sparse AE)');
  ebm
    .command('train')
    .description('train an energy-based model on a dataset\'s state images and save it (a tfjs weight-map folder with an ebm.json sidecar)')
    .requiredOption('--kind <kind>', 'kmeans | pca | sparse | lista | psd | conv-sparse')
    .requiredOption('--data <dir>', 'episode dataset folder (ppuu data dump)')
    .requiredOption('--out <dir>', 'model folder to write (replaced as a whole, atomically)')
    .option('--atoms <n>', 'atoms / clusters / components / filters (default 64; pca 32)', parseNumber('--atoms', true, 1))
    .option('--patch <n>', 'patch side for kmeans, pca, sparse, lista, psd (default 8; psd 4, which exports a conv encoder)', parseNumber('--patch', true, 1))
    .option('--lambda <x>', 'L1 weight (default 0.1; psd and conv-sparse 0.05)', parseNumber('--lambda', false, 0))
    .option('--steps <n>', 'training steps (kmeans: max Lloyd iterations)', parseNumber('--steps', true, 1))
    .option('--batch <n>', 'samples per step (default 64; conv-sparse 8 crops)', parseNumber('--batch', true, 1))
    .option('--samples <n>', 'patches drawn for the patch-based kinds (default 5000)', parseNumber('--samples', true, 2))
    .option('--layers <n>', 'LISTA layers / conv-sparse encoder steps (default 3)', parseNumber('--layers', true, 1))
    .option('--alpha <x>', 'PSD prediction weight (default 1)', parseNumber('--alpha', false, 0))
    .option('--crop-rows <n>', 'conv-sparse: image rows per training crop, even (default 32)', parseNumber('--crop-rows', true, 2))
    .option('--lr <x>', 'Adam learning rate for the tfjs-trained kinds', parseNumber('--lr', false, 0))
    .option('--seed <n>', 'random seed (default 1)', parseNumber('--seed', true, 0))
    .option('--split <name>', 'dataset split to read', 'train')
    .option('--max-images <n>', 'frames sampled from the split', parseNumber('--max-images', true, 1), 2000)
    .option('--backend <name>', 'tfjs backend (tensorflow-gpu, tensorflow, webgpu, wasm, cpu)')
    .option('--json', 'print the training summary as one JSON object')
    .action(async (opts: TrainFlags) => {
      const { EBM_KINDS, saveEbmModel, assertReplaceableModelDir } = await import('../../worldmodel/ebm/store.js');
      if (!(EBM_KINDS as readonly string[]).includes(opts.kind)) throw new InvalidFlag(`--kind must be one of ${EBM_KINDS.join(', ')}, got '${opts.kind}'`);
      if (!['train', 'val', 'test'].includes(opts.split)) throw new InvalidFlag(`--split must be train, val or test, got '${opts.split}'`);
      const kind = opts.kind as (typeof EBM_KINDS)[number];
      assertReplaceableModelDir(opts.out);
      const { initBackend } = await import('../../worldmodel/backend.js');
      const backend = await initBackend({ requested: opts.backend });
      let backendNote: string | null = null;
      if (kind === 'conv-sparse') {
        const { ensureConvGradients } = await import('../../worldmodel/ebm/conv-backend.js');
        backendNote = await ensureConvGradients();
      }
      const { loadDatasetImages } = await import('../../worldmodel/ebm/images.js');
      const { trainEbm, defaultTrainOptions } = await import('../../worldmodel/ebm/train.js');
      const d = defaultTrainOptions(kind);
      const images = loadDatasetImages(opts.data, { split: opts.split as 'train', maxImages: opts.maxImages, seed: opts.seed ?? d.seed });
      const bar = createProgress(`ebm ${kind}`, 1, { json: opts.json, unit: 'steps', fields: ['energy'] });
      const { model, summary } = await trainEbm(images, {
        kind,
        atoms: opts.atoms ?? d.atoms,
        patch: opts.patch ?? d.patch,
        lambda: opts.lambda ?? d.lambda,
        steps: opts.steps ?? d.steps,
        batch: opts.batch ?? d.batch,
        samples: opts.samples ?? d.samples,
        layers: opts.layers ?? d.layers,
        alpha: opts.alpha ?? d.alpha,
        cropRows: opts.cropRows ?? d.cropRows,
        learningRate: opts.lr ?? d.learningRate,
        seed: opts.seed ?? d.seed,
        onProgress: (done, total, energy) => {
          bar.setTotal(total);
          bar.update(done, { energy: energy.toPrecision(4) });
        },
      });
      bar.stop();
      model.training.dataset = opts.data;
      model.training.split = opts.split;
      await saveEbmModel(opts.out, model);
      const result = { out: opts.out, ...summary, backendChoice: backend.name, backendNote, encoder: model.encoder !== null };
      if (opts.json) return printJson(result);
      if (backendNote) say(`note: ${backendNote}`);
      say(`${opts.out}: ${kind}, ${model.arrays[model.atoms.array]!.shape.at(-1)} atoms of ${model.atoms.patch.join('x')}, trained on ${summary.samples} samples from ${summary.images} images in ${summary.seconds.toFixed(1)} s (${summary.backend})`);
      say(`held-out energy ${summary.heldOutEnergy.toPrecision(4)}${summary.lastEnergy !== null ? `, training ${summary.firstEnergy!.toPrecision(4)} -> ${summary.lastEnergy.toPrecision(4)}` : ''}, atom localisation ${summary.atomLocalisation.toFixed(3)}`);
      if (model.encoder) say(`encoder: 4x4 stride-2 conv kernel [4, 4, ${model.atoms.patch[2]}, ${model.arrays[model.encoder.kernel]!.shape.at(-1)}] (usable with --encoder-init ${opts.out})`);
    });

  ebm
    .command('filters')
    .description('draw the learned atoms / filters of a model as a PNG grid')
    .requiredOption('--model <dir>', 'model folder written by ppuu ebm train')
    .requiredOption('--out <file>', 'PNG file to write')
    .option('--which <what>', 'atoms (the dictionary / decoder) or encoder (its conv kernel)', 'atoms')
    .option('--scale <n>', 'screen pixels per filter pixel (default: tiles of about 32 px)', parseNumber('--scale', true, 1))
    .option('--columns <n>', 'atoms per grid row', parseNumber('--columns', true, 1))
    .option('--backend <name>', 'tfjs backend (tensorflow-gpu, tensorflow, webgpu, wasm, cpu)')
    .option('--json', 'print a JSON summary')
    .action(async (opts: FiltersFlags) => {
      if (opts.which !== 'atoms' && opts.which !== 'encoder') throw new InvalidFlag(`--which must be atoms or encoder, got '${opts.which}'`);
      // Chosen here like every other command (loading weights would otherwise let tfjs pick one and print its banner).
      const { initBackend } = await import('../../worldmodel/backend.js');
      await initBackend({ requested: opts.backend });
      const { loadEbmModel } = await import('../../worldmodel/ebm/store.js');
      const { renderFilterGrid } = await import('../../worldmodel/ebm/filters-png.js');
      const { meanLocalisation } = await import('../../worldmodel/ebm/localisation.js');
      const { writeFileAtomic } = await import('../../common/atomic.js');
      const { UserError } = await import('../../common/errors.js');
      const { file, arrays } = await loadEbmModel(opts.model);
      let name = file.atoms.array;
      if (opts.which === 'encoder') {
        if (!file.encoder) throw new UserError(`${opts.model}: model of kind '${file.kind}' has no convolutional encoder`);
        name = file.encoder.kernel;
      }
      const a = arrays[name]!;
      const K = a.shape.at(-1)!;
      const grid = renderFilterGrid(a.data, file.atoms.patch, K, { scale: opts.scale, columns: opts.columns });
      writeFileAtomic(opts.out, grid.png);
      const result = { out: opts.out, model: opts.model, kind: file.kind, which: opts.which, atoms: K, patch: file.atoms.patch, width: grid.width, height: grid.height, localisation: meanLocalisation(a.data, file.atoms.patch, K) };
      if (opts.json) return printJson(result);
      say(`${opts.out}: ${K} ${opts.which} of ${file.atoms.patch.join('x')} (${file.kind}) in a ${grid.columns}x${grid.rows} grid, ${grid.width}x${grid.height} px`);
    });
}
