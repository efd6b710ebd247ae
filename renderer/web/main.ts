/**
 * Entry point of the viewer page (bundled by esbuild into viewer.js; the same bundle runs in
 * Electron and in a browser). Connects to the Node side, lists and loads scenarios, wires the
 * controls, and exposes `window.ppuuViewer` for tests and scripts.
 */
import type { LoadRequest, ScenarioListing, SceneInfo, ViewerFrame } from '../protocol/types.js';
import { CAR_FOCUS } from '../protocol/types.js';
import { connect } from './transport.js';
import { Viewer } from './viewer.js';
import { frameText, Hud } from './hud.js';
import { ImaginedInset, ObservationInset } from './insets.js';
import { OutcomeTable } from './outcomes.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** What tests and scripts can read and drive (window.ppuuViewer). */
export interface ViewerHandle {
  ready: boolean;
  transport: 'electron' | 'http';
  error: string | null;
  webgl: number;
  info: SceneInfo | null;
  /** The last imagination shown: the frame it starts from, its steps and spread per step. */
  imagined: { index: number; steps: number; spread: number[] } | null;
  /** Imagination requests: sent, answered, and the most ever in flight at once. */
  imagination: { requested: number; answered: number; maxInFlight: number };
  /** The outcome table's rows known so far, by controller index. */
  outcomes(): Array<{ controllerIndex: number; label: string; outcome: string; distanceM: number; steps: number }>;
  state(): { index: number; renderedIndex: number; playing: boolean; limit: number; loaded: number; total: number | null; ended: unknown; renderCount: number; renderMsTotal: number };
  /** The focused bot car of the frame on screen, in road px. */
  focus(): { id: number; xPx: number; yPx: number; lengthPx: number; widthPx: number } | null;
  carCount(): number;
  play(): void;
  pause(): void;
  step(n?: number): Promise<void>;
  seek(i: number): Promise<void>;
  setSpeed(s: number): void;
  worldToScreen(xPx: number, yPx: number): { x: number; y: number };
  load(req: LoadRequest): Promise<void>;
  canvas(): HTMLCanvasElement;
}

declare global {
  interface Window {
    ppuuViewer?: ViewerHandle;
  }
}

function showError(text: string | null): void {
  const box = $('error');
  box.textContent = text ?? '';
  box.hidden = text === null;
}

function showMessage(text: string | null): void {
  const box = $('message');
  box.textContent = text ?? '';
  box.hidden = text === null;
}

async function boot(): Promise<void> {
  const { api, kind } = connect();
  const params = new URLSearchParams(location.search);
  const hud = new Hud();
  const obs = new ObservationInset($('obs-figure'), $<HTMLCanvasElement>('obs-canvas'));
  const outcomeTable = new OutcomeTable($('outcomes-table').querySelector('tbody')!);
  const imagined = new ImaginedInset($('imagined-figure'), $('imagined-strip'), $<HTMLCanvasElement>('spread-canvas'));
  const timeline = $<HTMLInputElement>('timeline');
  const playBtn = $<HTMLButtonElement>('btn-play');
  let scrubbing = false;

  const handle: ViewerHandle = {
    ready: false,
    transport: kind,
    error: null,
    webgl: 0,
    info: null,
    imagined: null,
    imagination: { requested: 0, answered: 0, maxInFlight: 0 },
    outcomes: () => [],
    state: () => ({ index: 0, renderedIndex: -1, playing: false, limit: 0, loaded: 0, total: null, ended: null, renderCount: 0, renderMsTotal: 0 }),
    focus: () => null,
    carCount: () => 0,
    play() {},
    pause() {},
    step: async () => {},
    seek: async () => {},
    setSpeed() {},
    worldToScreen: () => ({ x: NaN, y: NaN }),
    load: async () => {},
    canvas: () => document.querySelector('#view canvas') as HTMLCanvasElement,
  };
  handle.outcomes = () => [...outcomeTable.known.values()].map((o) => ({ controllerIndex: o.controllerIndex, label: o.label, outcome: o.outcome, distanceM: o.distanceM, steps: o.steps }));
  window.ppuuViewer = handle;
  const fail = (msg: string) => {
    handle.error = msg;
    showError(msg);
  };

  // Imagination is asked for the frame on screen, one request at a time, while playing as when
  // paused; while one runs, only the latest frame shown is remembered and asked for next, so the
  // frames in between are dropped and playback never waits for the model.
  let imagining = false;
  let inFlight = 0;
  let wanted: number | null = null;
  const requestImagination = (index: number): void => {
    wanted = index;
    if (imagining) return;
    const info = handle.info;
    if (!info?.imagination) return;
    imagining = true;
    const asked = index;
    wanted = null;
    const counts = handle.imagination;
    counts.requested++;
    inFlight++;
    counts.maxInFlight = Math.max(counts.maxInFlight, inFlight);
    api
      .imagine(info.sessionId, asked)
      .then((im) => {
        if (handle.info !== info) return;
        counts.answered++;
        imagined.show(im, info.display.showImagined, asked, `waiting for ${info.imagination!.contextFrames} frames of context`);
        hud.uncertainty = im ? { index: asked, value: im.spread.reduce((a, b) => a + b, 0) / Math.max(1, im.steps) } : null;
        handle.imagined = { index: asked, steps: im?.steps ?? 0, spread: im ? Array.from(im.spread) : [] };
        const f = viewer.frame;
        if (f && f.index === asked) hud.show(f, info, viewer.timelineLimit, viewer.ended, viewer.lengthKnown);
      })
      .catch((e: Error) => fail(e.message))
      .finally(() => {
        inFlight--;
        imagining = false;
        if (wanted !== null && wanted !== asked && handle.info === info) requestImagination(wanted);
      });
  };

  let viewer: Viewer;
  try {
    viewer = new Viewer($('view'), {
      onFrame: (frame: ViewerFrame, v: Viewer) => {
        const info = v.info!;
        hud.show(frame, info, v.timelineLimit, v.ended, v.lengthKnown);
        obs.show(frame.observation, info.observation, info.display.showObservation);
        if (frame.imagined) imagined.show(frame.imagined, info.display.showImagined, frame.index);
        else if (info.imagination && info.display.showImagined) {
          if (handle.imagined?.index !== frame.index) requestImagination(frame.index);
        }
        timeline.max = String(v.timelineLimit - 1);
        if (!scrubbing) timeline.value = String(frame.index);
        $('frame-label').textContent = frameText(frame.index, v.timelineLimit, v.lengthKnown);
        playBtn.innerHTML = v.playback.playing ? '&#10073;&#10073;' : '&#9654;';
      },
      onMessage: showMessage,
    });
  } catch (e) {
    fail(`WebGL2 is not available in this browser (${(e as Error).message}); the viewer needs it.`);
    return;
  }
  handle.webgl = viewer.webglVersion;

  Object.assign(handle, {
    state: () => ({
      index: viewer.playback.index,
      renderedIndex: viewer.renderedIndex,
      playing: viewer.playback.playing,
      limit: viewer.timelineLimit,
      loaded: viewer.cache?.loaded ?? 0,
      total: viewer.cache?.total ?? null,
      ended: viewer.ended,
      renderCount: viewer.renderCount,
      renderMsTotal: viewer.renderMsTotal,
    }),
    focus: () => {
      const f = viewer.frame;
      if (!f) return null;
      for (let i = 0; i < f.cars.id.length; i++) {
        if (f.cars.flags[i]! & CAR_FOCUS) return { id: f.cars.id[i]!, xPx: f.cars.xPx[i]!, yPx: f.cars.yPx[i]!, lengthPx: f.cars.lengthPx[i]!, widthPx: f.cars.widthPx[i]! };
      }
      return null;
    },
    carCount: () => viewer.frame?.cars.id.length ?? 0,
    play: () => viewer.playback.play(),
    pause: () => {
      viewer.playback.pause();
      viewer.markDirty();
    },
    step: (n = 1) => viewer.step(n),
    seek: (i: number) => viewer.seek(i),
    setSpeed: (s: number) => (viewer.playback.speed = s),
    worldToScreen: (x: number, y: number) => viewer.cam.worldToScreen(x, y),
  } satisfies Partial<ViewerHandle>);

  let listings: ScenarioListing[] = [];
  const scenarioSelect = $<HTMLSelectElement>('scenario-select');
  const episodeSelect = $<HTMLSelectElement>('episode-select');
  const controllerSelect = $<HTMLSelectElement>('controller-select');

  async function load(req: LoadRequest): Promise<void> {
    showError(null);
    handle.error = null;
    showMessage('loading scenario...');
    try {
      const info = await api.loadScenario(req);
      handle.info = info;
      handle.imagined = null;
      hud.uncertainty = null;
      imagined.show(null, info.display.showImagined, 0, info.imagination ? 'imagining\u2026' : 'no world model in this scenario');
      hud.setScene(info);
      episodeSelect.replaceChildren(...info.episodes.map((e, i) => new Option(e.label, String(i), false, i === info.episodeIndex)));
      controllerSelect.replaceChildren(...info.controllers.map((c, i) => new Option(c.label, String(i), false, i === info.controllerIndex)));
      $<HTMLSelectElement>('camera-select').value = info.display.camera;
      $<HTMLInputElement>('ghost-toggle').checked = info.display.showGhost;
      $<HTMLSelectElement>('speed-select').value = String(info.display.playbackSpeed);
      lastRequest = req;
      await viewer.load(info, api);
      showMessage(null);
      void outcomeTable.fill(info, api, (msg) => console.warn(`outcome: ${msg}`));
    } catch (e) {
      showMessage(null);
      fail((e as Error).message);
    }
  }
  handle.load = load;
  let lastRequest: LoadRequest | null = null;

  // Controls.
  playBtn.addEventListener('click', () => (viewer.playback.playing ? handle.pause() : handle.play()));
  $('btn-step').addEventListener('click', () => void viewer.step(1));
  $('btn-back').addEventListener('click', () => void viewer.step(-1));
  $<HTMLSelectElement>('speed-select').addEventListener('change', (e) => (viewer.playback.speed = Number((e.target as HTMLSelectElement).value)));
  timeline.addEventListener('input', () => {
    scrubbing = true;
    void viewer.seek(Number(timeline.value)).finally(() => (scrubbing = false));
  });
  $<HTMLSelectElement>('camera-select').addEventListener('change', (e) => {
    viewer.cam.setMode((e.target as HTMLSelectElement).value as 'follow' | 'free');
    viewer.markDirty();
    viewer.drawNow();
  });
  $<HTMLInputElement>('ghost-toggle').addEventListener('change', (e) => {
    viewer.showGhost = (e.target as HTMLInputElement).checked;
    viewer.markDirty();
    viewer.drawNow();
  });
  scenarioSelect.addEventListener('change', () => {
    const [file, index] = scenarioSelect.value.split('#');
    void load({ file, scenario: Number(index ?? 0), episode: 0 });
  });
  episodeSelect.addEventListener('change', () => {
    if (lastRequest) void load({ ...lastRequest, episode: Number(episodeSelect.value) });
  });
  // Another controller for the same episode: one of the file's scenarios (selected in the scenario
  // menu too) or one the app adds (IDM, no-action, MPC) on the current scenario.
  controllerSelect.addEventListener('change', () => {
    const info = handle.info;
    if (!info || !lastRequest) return;
    const k = Number(controllerSelect.value);
    const choice = info.controllers[k]!;
    const { controller: _old, ...rest } = lastRequest;
    if (choice.scenarioIndex !== null) {
      const req = { ...rest, scenario: choice.scenarioIndex, episode: info.episodeIndex };
      if (req.file) scenarioSelect.value = `${req.file}#${choice.scenarioIndex}`;
      void load(req);
    } else void load({ ...rest, episode: info.episodeIndex, controller: k });
  });
  $<HTMLInputElement>('scenario-file').addEventListener('change', async (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) await load({ text: await f.text(), name: f.name });
  });
  // Free camera: drag to pan, wheel to zoom.
  const canvas = viewer.renderer.domElement;
  let drag: { x: number; y: number } | null = null;
  canvas.addEventListener('pointerdown', (e) => (drag = { x: e.clientX, y: e.clientY }));
  window.addEventListener('pointerup', () => (drag = null));
  canvas.addEventListener('pointermove', (e) => {
    if (!drag) return;
    viewer.cam.pan(e.clientX - drag.x, e.clientY - drag.y);
    drag = { x: e.clientX, y: e.clientY };
    $<HTMLSelectElement>('camera-select').value = 'free';
    viewer.markDirty();
  });
  canvas.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      const r = canvas.getBoundingClientRect();
      viewer.cam.zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
      $<HTMLSelectElement>('camera-select').value = 'free';
      viewer.markDirty();
    },
    { passive: false },
  );
  window.addEventListener('keydown', (e) => {
    if ((e.target as HTMLElement).tagName === 'INPUT' || (e.target as HTMLElement).tagName === 'SELECT') return;
    if (e.key === ' ') (viewer.playback.playing ? handle.pause() : handle.play(), e.preventDefault());
    else if (e.key === 'ArrowRight') void viewer.step(1);
    else if (e.key === 'ArrowLeft') void viewer.step(-1);
  });

  // Scenario list, then the scenario asked for in the URL or on the command line.
  try {
    listings = await api.listScenarios();
    scenarioSelect.replaceChildren(
      ...listings.flatMap((l) =>
        l.error ? [new Option(`${l.file} (invalid)`, `${l.file}#0`)] : l.scenarios.map((name, i) => new Option(l.kind === 'suite' ? `${l.name}: ${name}` : name, `${l.file}#${i}`)),
      ),
    );
  } catch (e) {
    fail((e as Error).message);
  }
  const fromUrl = params.get('scenario');
  const initial: LoadRequest | null = fromUrl
    ? { file: fromUrl, scenario: Number(params.get('index') ?? 0), episode: Number(params.get('episode') ?? 0) }
    : await api.initial().catch((e: Error) => (fail(e.message), null));
  const first = initial ?? (listings.find((l) => !l.error) ? { file: listings.find((l) => !l.error)!.file } : null);
  if (first) {
    scenarioSelect.value = `${first.file}#${first.scenario ?? 0}`;
    await load(first);
  } else if (!handle.error) fail('no scenario to show: start with `ppuu app --scenario FILE`');
  handle.ready = true;
}

void boot().catch((e: Error) => {
  showError(`viewer failed to start: ${e.message}`);
  if (window.ppuuViewer) {
    window.ppuuViewer.error = e.message;
    window.ppuuViewer.ready = true;
  }
});

