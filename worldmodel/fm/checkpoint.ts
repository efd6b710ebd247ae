/**
 * Forward-model checkpoints: a folder, written atomically (never half-written), holding
 *   model.json + weights.bin        the weights, standard TensorFlow.js weights format
 *   hparams.json                    FmHparams: kind, preset, config, normalisation statistics
 *   optimizer.json + optimizer.bin  Adam moments (training checkpoints only)
 *   train-state.json                TrainState (training checkpoints only)
 * A training run's --out folder keeps its checkpoint in OUT/checkpoint; loadFm accepts either
 * folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../common/errors.js';
import { writeDirAtomic, writeFileAtomic } from '../../common/atomic.js';
import type { NormStats } from '../../data/dataset-types.js';
import { checkFmConfig, type FmConfig, type FmKind } from './config.js';
import { ForwardModel } from './model.js';
import { variablesFrom, type ParamCount } from './params.js';
import { loadTensorMap, saveTensorMap } from './store.js';
import { assignCopy, type Adam } from './adam.js';
import type { EncoderInitRecord } from './ebm-init.js';

export interface FmHparams {
  format: 'ppuu-fm';
  version: 1;
  kind: FmKind;
  preset: string;
  config: FmConfig;
  /** Standardisation of states and actions (from the training dataset's manifest). */
  stats: NormStats;
  /** Dataset the model was trained on (as given), if any. */
  dataset: string | null;
  /** Updates applied to these weights. */
  steps: number;
  paramCount: ParamCount;
  writtenBy: string;
  /** Where the first convolutions' starting values came from (`--encoder-init`); absent or null: seeded default. */
  encoderInit?: EncoderInitRecord | null;
}

export interface TrainState {
  /** Updates done; a resumed run continues with step index `step`. */
  step: number;
  seed: number;
  batch: number;
  split: string;
  skipped: number;
  /** Dataset folder and the warm-start folder the run began from. */
  dataset: string;
  init: string | null;
  /** The `--encoder-init` folder the run began from (absent in older checkpoints). */
  encoderInit?: string | null;
  workers: number;
  /** The run's --steps (absent in older checkpoints): what a resume without --steps continues to. */
  targetSteps?: number;
}

/** The --steps recorded by the run in OUT (null: no checkpoint, or one from before the record). */
export function recordedTargetSteps(outDir: string): number | null {
  const file = join(checkpointDir(outDir), 'train-state.json');
  if (!existsSync(file)) return null;
  const t = (readJson(file) as Partial<TrainState>).targetSteps;
  return Number.isInteger(t) ? (t as number) : null;
}

/** Checkpoint sub-folder of a training output folder. */
export function checkpointDir(outDir: string): string {
  return join(outDir, 'checkpoint');
}

/** The folder holding hparams.json: `dir` itself or dir/checkpoint. */
export function resolveModelDir(dir: string): string {
  if (existsSync(join(dir, 'hparams.json'))) return dir;
  if (existsSync(join(checkpointDir(dir), 'hparams.json'))) return checkpointDir(dir);
  throw new UserError(`${dir}: not a forward-model checkpoint (no hparams.json in it or in its checkpoint/ folder)`);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: cannot read JSON (${(e as Error).message.split('\n')[0]})`);
  }
}

export function readHparams(dir: string): FmHparams {
  const file = join(dir, 'hparams.json');
  const h = readJson(file) as FmHparams;
  if (h?.format !== 'ppuu-fm') throw new UserError(`${file}: field format: expected 'ppuu-fm'`);
  if (h.kind !== 'deterministic' && h.kind !== 'vae') throw new UserError(`${file}: field kind: expected deterministic or vae`);
  // Checkpoints from before the imageSkip field used the paper's output layer.
  if (h.config && typeof h.config === 'object' && !('imageSkip' in h.config)) (h.config as FmConfig).imageSkip = 'sum';
  checkFmConfig(h.config, file);
  return h;
}

/** Writes a checkpoint folder atomically (values are read from tensors: call outside tidy). */
export async function saveFm(dir: string, model: ForwardModel, hparams: FmHparams, training?: { adam: Adam; state: TrainState }): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    await saveTensorMap(tmp, 'model', 'weights', model.weights, { kind: model.kind });
    writeFileAtomic(join(tmp, 'hparams.json'), JSON.stringify(hparams, null, 1) + '\n');
    if (training) {
      await saveTensorMap(tmp, 'optimizer', 'optimizer', training.adam.stateTensors(), { t: training.adam.t });
      writeFileAtomic(join(tmp, 'train-state.json'), JSON.stringify(training.state, null, 1) + '\n');
    }
  });
}

/** Loads the model of a checkpoint (or of a training output folder). */
export function loadFm(dir: string): { model: ForwardModel; hparams: FmHparams; dir: string } {
  const d = resolveModelDir(dir);
  const hparams = readHparams(d);
  const { tensors } = loadTensorMap(d, 'model');
  try {
    const model = new ForwardModel(hparams.config, hparams.kind, variablesFrom(tensors));
    return { model, hparams, dir: d };
  } catch (e) {
    throw new UserError(`${join(d, 'model.json')}: ${(e as Error).message}`);
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}

/** Restores Adam's moments and returns the training state saved beside them. */
export function loadTraining(dir: string, adam: Adam): TrainState {
  const { tensors, metadata } = loadTensorMap(dir, 'optimizer');
  try {
    adam.loadState(tensors, Number(metadata.t ?? 0));
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
  return readJson(join(dir, 'train-state.json')) as TrainState;
}

/**
 * Copies the weights `from` has with the same name and shape into `to` (the VAE's warm start
 * from a deterministic model); returns the names copied.
 */
export function copySharedWeights(from: ForwardModel, to: ForwardModel): string[] {
  const copied: string[] = [];
  for (const [name, v] of Object.entries(to.weights)) {
    const src = from.weights[name];
    if (src && src.shape.join(',') === v.shape.join(',')) {
      assignCopy(v, src);
      copied.push(name);
    }
  }
  return copied;
}
