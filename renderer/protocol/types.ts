/**
 * What the viewer page and the Node side say to each other, the same over HTTP (browser viewer)
 * and Electron IPC. The page draws; the simulation runs in Node (see renderer/README.md) and the
 * page asks for frames in chunks by index, so play, pause, step and scrubbing never re-simulate.
 *
 * Coordinates are simulator pixels: x along the road (driving direction), y across it, pointing
 * down (towards the ramp); 1 lane width = 24 px = 3.7 m. Positions are car CENTRES.
 */

/** A road drawn as paved polygons and lane lines, flat [x0, y0, x1, y1, ...] arrays in px. */
export interface RoadDrawing {
  widthPx: number;
  heightPx: number;
  surfaces: Array<{ kind: 'road' | 'ramp'; points: number[] }>;
  markings: Array<{ style: 'solid' | 'dashed'; points: number[] }>;
  /** Vertical lines, drawn with their labels: where states start being recorded and where arrival counts. */
  zones: { recordStartXPx: number; arrivalXPx: number } | null;
}

/** Car columns of one frame (index i across the arrays is one car). */
export interface CarColumns {
  id: Int32Array;
  xPx: Float32Array;
  yPx: Float32Array;
  /** Unit heading. */
  dirX: Float32Array;
  dirY: Float32Array;
  lengthPx: Float32Array;
  widthPx: Float32Array;
  /** Bit flags: CAR_CONTROLLED (bot-driven), CAR_FOCUS (the car the camera and HUD follow). */
  flags: Uint8Array;
}
export const CAR_CONTROLLED = 1;
export const CAR_FOCUS = 2;

export interface EgoStatus {
  id: number;
  speedPxPerS: number;
  /** Named costs of this frame (proximity, lane, uncertainty, ...). */
  costs: Record<string, number>;
}

/** Imagined future frames of a world model and their spread across dropout samples. */
export interface ImaginedFrames {
  steps: number;
  heightPx: number;
  widthPx: number;
  channels: number;
  /** Mean predicted images, uint8 [steps, height, width, channels]. */
  frames: Uint8Array;
  /** Per-step spread (mean per-pixel variance across samples, 0..1 scale). */
  spread: Float32Array;
}

export interface ViewerFrame {
  /** Episode-relative frame number (0 = first frame shown). */
  index: number;
  /** Source frame id of the data. */
  frameId: number;
  timeS: number;
  /** What the focused car is doing, in words ('replaying its log', 'driving: idm', 'collision'). */
  status: string;
  cars: CarColumns;
  /** Logged (human) positions of the controlled cars at this instant. */
  ghosts: CarColumns;
  /** The focused controlled car, null when none is on the road. */
  ego: EgoStatus | null;
  /** The focused car's observation, uint8 [height, width, channels] row-major (front at row 0). */
  observation: Uint8Array | null;
  imagined: ImaginedFrames | null;
}

export interface FrameChunk {
  sessionId: string;
  from: number;
  frames: ViewerFrame[];
  /** Episode length in frames once known (the run reached its end), else null. */
  total: number | null;
  /** How and where the episode ended, once it has. */
  ended: { atFrame: number; reason: string } | null;
}

export interface DisplaySettings {
  camera: 'follow' | 'free';
  showGhost: boolean;
  showObservation: boolean;
  showImagined: boolean;
  playbackSpeed: number;
  startPaused: boolean;
  frame: number;
}

export interface SceneInfo {
  sessionId: string;
  scenario: { name: string; description: string; file: string; controller: string };
  /** The episodes the scenario expands to (one per ego car and seed unless driven together). */
  episodes: Array<{ label: string; egoIds: number[]; seed: number }>;
  episodeIndex: number;
  road: RoadDrawing;
  dtS: number;
  pxPerM: number;
  /** Largest number of frames the episode can have (its duration); the run may end earlier. */
  maxFrames: number;
  /** The episode's real length in frames when the run was finished at load time (the usual case), else null. */
  length: number | null;
  /** Controllers that can drive the bot in this same episode (ControllerChoice), the one shown at `controllerIndex`. */
  controllers: ControllerChoice[];
  controllerIndex: number;
  observation: { heightPx: number; widthPx: number; channels: number } | null;
  costNames: string[];
  /** Set when the scenario loads a world model: imagined frames can be asked for (ViewerApi.imagine). */
  imagination: { horizon: number; samples: number; contextFrames: number } | null;
  display: DisplaySettings;
}

export interface ScenarioListing {
  file: string;
  name: string;
  kind: 'scenario' | 'suite';
  scenarios: string[];
  /** Set when the file does not validate; the message says why. */
  error: string | null;
}

/** One controller the bot can be driven by in the shown episode. */
export interface ControllerChoice {
  /** Shown in the menu and the outcome table ('mpur-km (best)', 'idm', 'mpc'). */
  label: string;
  /** Scenario controller kind ('policy', 'idm', 'no-action', 'mpc', 'replay'). */
  kind: string;
  /** The index of the scenario inside its file when the choice is one of the file's scenarios, else null (added by the app). */
  scenarioIndex: number | null;
}

/** How one controller did on the shown episode, scored by the evaluation `ppuu eval` runs (sim/evaluate.ts). */
export interface EpisodeOutcome {
  controllerIndex: number;
  label: string;
  /** 'arrived', 'collision', 'offroad', 'timeout', 'end-of-data', or why the car was not driven. */
  outcome: string;
  success: boolean;
  distanceM: number;
  /** Steps the controller drove. */
  steps: number;
  endFrame: number;
  /** Wall time of the evaluation, ms. */
  ms: number;
}

/** What the page may ask for: by path of a listed / given file, or a JSON text it read itself. */
export interface LoadRequest {
  file?: string;
  text?: string;
  /** Name shown in errors for a text. */
  name?: string;
  /** Scenario index inside a suite (default 0). */
  scenario?: number;
  /** Episode index (default 0). */
  episode?: number;
  /** Index into the scenario's controller choices (SceneInfo.controllers); default: the scenario's own. */
  controller?: number;
}

/** The calls both transports offer; Electron's preload exposes exactly these. */
export interface ViewerApi {
  listScenarios(): Promise<ScenarioListing[]>;
  /** The scenario given on the command line, if any. */
  initial(): Promise<LoadRequest | null>;
  loadScenario(req: LoadRequest): Promise<SceneInfo>;
  frames(sessionId: string, from: number, count: number): Promise<FrameChunk>;
  /** The world model's imagined frames from episode frame `index` on; null where it has too little context. */
  imagine(sessionId: string, index: number): Promise<ImaginedFrames | null>;
  /** The outcome of controller choice `controller` on the session's episode (evaluated once, then kept). */
  outcome(sessionId: string, controller: number): Promise<EpisodeOutcome>;
}
