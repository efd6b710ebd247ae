/**
 * The viewer: a three.js scene of the road and the cars of the current frame, a camera that
 * follows the bot or flies free, and the playback loop that pulls frames from the FrameCache.
 * It renders every animation frame while playing and on demand when paused. A lost WebGL context
 * stops drawing until the browser restores it; the background (the road surface colour) lives in
 * scene.background, not only in the clear colour, so the restored picture is the same.
 */
import { Color, Group, Scene, WebGLRenderer } from 'three';
import { DT_S } from '../../data/layout.js';
import type { FrameChunk, SceneInfo, ViewerApi, ViewerFrame } from '../protocol/types.js';
import { CAR_FOCUS } from '../protocol/types.js';
import { FrameCache } from './frame-cache.js';
import { Playback } from './playback.js';
import { PALETTE } from './palette.js';
import { buildRoad } from './scene/road-layer.js';
import { CarLayer } from './scene/car-layer.js';
import { ViewCamera } from './scene/view-camera.js';

/** True when WebGL runs on a software rasteriser (SwiftShader, llvmpipe), from a throw-away probe context. */
export function isSoftwareGl(): boolean {
  try {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (!gl) return false;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const name = String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return /swiftshader|llvmpipe|software/i.test(name);
  } catch {
    return false;
  }
}

export interface ViewerHooks {
  /** Called after each drawn frame (HUD, insets, controls). */
  onFrame(frame: ViewerFrame, viewer: Viewer): void;
  onMessage(text: string | null): void;
}

export class Viewer {
  readonly renderer: WebGLRenderer;
  readonly scene = new Scene();
  private world = new Group();
  private road: Group | null = null;
  private cars: CarLayer;
  private ghosts: CarLayer;
  cam: ViewCamera = new ViewCamera(2040, 264);
  info: SceneInfo | null = null;
  cache: FrameCache | null = null;
  playback = new Playback(DT_S);
  showGhost = true;
  contextLost = false;
  readonly antialias: boolean;
  /** Counters for tests and the benchmark. */
  renderCount = 0;
  renderMsTotal = 0;
  renderedIndex = -1;
  private dirty = true;
  private lastT: number | null = null;
  private shown: ViewerFrame | null = null;
  private running = false;

  constructor(
    private readonly container: HTMLElement,
    private readonly hooks: ViewerHooks,
  ) {
    // three r187 needs WebGL2 and throws when it cannot get it. Multisampling costs a software
    // rasteriser (SwiftShader) about half its frame rate, so it is only used on a real GPU.
    const aa = new URLSearchParams(globalThis.location?.search ?? '').get('aa');
    this.antialias = aa === null ? !isSoftwareGl() : aa === '1';
    this.renderer = new WebGLRenderer({ antialias: this.antialias, preserveDrawingBuffer: true, powerPreference: 'high-performance' });
    this.renderer.setPixelRatio(Math.min(2, globalThis.devicePixelRatio || 1));
    this.renderer.setClearColor(PALETTE.road);
    container.appendChild(this.renderer.domElement);
    this.scene.background = new Color(PALETTE.road);
    this.scene.add(this.world);
    this.ghosts = new CarLayer(this.world, { z: 0.3, ghost: true });
    this.cars = new CarLayer(this.world, { z: 0.5 });
    const canvas = this.renderer.domElement;
    canvas.addEventListener('webglcontextlost', (e) => {
      e.preventDefault(); // tells the browser we want the context back
      this.contextLost = true;
      this.hooks.onMessage('WebGL context lost - waiting for the browser to restore it...');
    });
    canvas.addEventListener('webglcontextrestored', () => {
      this.contextLost = false;
      this.hooks.onMessage(null);
      this.dirty = true;
    });
    new ResizeObserver(() => this.resize()).observe(container);
    this.resize();
  }

  get webglVersion(): number {
    return this.renderer.capabilities.isWebGL2 ? 2 : 1;
  }

  resize(): void {
    const w = this.container.clientWidth || 1;
    const h = this.container.clientHeight || 1;
    this.renderer.setSize(w, h, false);
    this.cam.resize(w, h);
    if (this.shown) this.applyCamera(this.shown);
    this.dirty = true;
  }

  /** Shows a new episode; resolves once its first frame is drawn. */
  async load(info: SceneInfo, api: Pick<ViewerApi, 'frames'>): Promise<void> {
    this.info = info;
    if (this.road) this.world.remove(this.road);
    this.road = buildRoad(info.road);
    this.world.add(this.road);
    const mode = this.cam.mode;
    this.cam = new ViewCamera(info.road.widthPx, info.road.heightPx);
    this.cam.setMode(info.display.camera ?? mode);
    this.resize();
    this.cache = new FrameCache(api, info.sessionId, info.maxFrames);
    // The Node side ran the episode to its end at load (usually): the timeline has its real length from the start.
    if (info.length !== null) this.cache.total = info.length;
    this.playback = new Playback(info.dtS);
    this.playback.speed = info.display.playbackSpeed;
    this.showGhost = info.display.showGhost;
    this.shown = null;
    this.renderedIndex = -1;
    const start = Math.min(info.display.frame, info.maxFrames - 1);
    await this.cache.ensure(start);
    if (this.cache.error) throw new Error(this.cache.error);
    this.syncLimit();
    this.playback.seek(start);
    if (!info.display.startPaused) this.playback.play();
    this.dirty = true;
    this.drawNow();
    this.start();
  }

  /** The episode's frame count as far as it is known (its real length once the run has ended). */
  private syncLimit(): void {
    const c = this.cache;
    if (!c) return;
    this.playback.final = c.total !== null;
    this.playback.limit = Math.max(1, c.limit);
  }

  get ended(): FrameChunk['ended'] {
    return this.cache?.ended ?? null;
  }

  /** True once the timeline's length is the episode's real length (not the scenario's bound). */
  get lengthKnown(): boolean {
    return this.cache?.total !== null && this.cache?.total !== undefined;
  }

  /** Frames the timeline can reach (loaded or not). */
  get timelineLimit(): number {
    return this.cache?.limit ?? 1;
  }

  private applyCamera(frame: ViewerFrame): void {
    const cars = frame.cars;
    for (let i = 0; i < cars.id.length; i++) {
      if (cars.flags[i]! & CAR_FOCUS) return this.cam.follow(cars.xPx[i]!);
    }
  }

  /** Seeks, loading the frame first when it is not there yet (timeline scrubbing far ahead). */
  async seek(index: number): Promise<void> {
    const c = this.cache;
    if (!c) return;
    // Loading may reveal that the episode ends before `index`: clamp again to its real length.
    for (let attempt = 0; attempt < 3; attempt++) {
      const target = Math.max(0, Math.min(index, c.limit - 1));
      if (c.get(target) || c.error) break;
      this.hooks.onMessage('loading frames...');
      await c.ensure(target);
      this.hooks.onMessage(null);
    }
    this.syncLimit();
    this.playback.seek(index);
    this.dirty = true;
    this.drawNow();
  }

  /** Pauses and moves n frames; resolves once that frame is drawn (it may need loading first). */
  async step(n = 1): Promise<void> {
    this.playback.pause();
    await this.seek(this.playback.index + n);
  }

  markDirty(): void {
    this.dirty = true;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = (t: number) => {
      if (!this.running) return;
      this.tick(t);
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  }

  stop(): void {
    this.running = false;
  }

  private tick(tMs: number): void {
    const dtS = this.lastT === null ? 0 : (tMs - this.lastT) / 1000;
    this.lastT = tMs;
    const c = this.cache;
    if (!c) return;
    this.syncLimit();
    if (this.playback.tick(dtS, c.loadedUntil(this.playback.index))) this.dirty = true;
    c.prefetch(this.playback.index);
    if (this.playback.playing) this.dirty = true;
    this.drawNow();
  }

  /** Draws the playback frame if anything changed since the last draw. */
  drawNow(): void {
    if (!this.dirty || this.contextLost || !this.cache) return;
    const frame = this.cache.get(this.playback.index);
    if (!frame) return;
    if (frame !== this.shown) {
      this.cars.update(frame.cars);
      this.ghosts.update(frame.ghosts);
      this.shown = frame;
    }
    this.ghosts.setVisible(this.showGhost);
    this.applyCamera(frame);
    this.cars.setPixelSize(1 / this.cam.zoom);
    this.ghosts.setPixelSize(1 / this.cam.zoom);
    const t0 = performance.now();
    this.renderer.render(this.scene, this.cam.camera);
    this.renderMsTotal += performance.now() - t0;
    this.renderCount++;
    this.renderedIndex = frame.index;
    this.dirty = false;
    this.hooks.onFrame(frame, this);
  }

  get frame(): ViewerFrame | null {
    return this.shown;
  }
}
