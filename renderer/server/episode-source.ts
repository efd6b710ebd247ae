/**
 * The Node-side producer of viewer frames for one episode: what the viewer service asks when the
 * page wants frames. The scenario runner's episodes implement it (scenario-source.ts); tests and
 * the benchmark plug in their own. Frames are produced in order and kept, so asking again for an
 * earlier frame never re-simulates.
 */
import type { ImaginedFrames, RoadDrawing, SceneInfo, ViewerFrame } from '../protocol/types.js';
import type { ResolvedScenario } from '../../scenarios/validate.js';

export interface EpisodeDescription {
  episodes: SceneInfo['episodes'];
  road: RoadDrawing;
  dtS: number;
  pxPerM: number;
  maxFrames: number;
  observation: SceneInfo['observation'];
  costNames: string[];
  imagination: SceneInfo['imagination'];
}

export interface EpisodeSource {
  readonly description: EpisodeDescription;
  /** Frame i of the episode (producing every frame up to it first), or null past its end. */
  frame(i: number): Promise<ViewerFrame | null>;
  /** Episode length once the run has ended, else null. */
  readonly total: number | null;
  readonly ended: { atFrame: number; reason: string } | null;
  /** The world model's imagined frames from frame `index` on (sources with a world model only). */
  imagine?(index: number): Promise<ImaginedFrames | null>;
  /** Releases what the run holds (models, worlds). */
  dispose?(): void;
}

/** Builds the source of episode `episode` of a scenario (throws UserError for bad input). */
export type EpisodeSourceFactory = (scenario: ResolvedScenario, episode: number) => Promise<EpisodeSource>;
