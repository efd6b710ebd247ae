/**
 * A scene: every car on the road at one instant, as flat arrays (what the rasteriser, the costs
 * and the neighbour search read). Positions are rear centres in px, headings unit vectors,
 * speeds px/s, sizes px. Scenes are built from a replay frame, with some cars replaced by
 * controlled ones or left out.
 */
import type { CarState } from './kinematics.js';
import type { ReplayData } from './replay.js';

export class Scene {
  n = 0;
  ids: Int32Array;
  x: Float64Array;
  y: Float64Array;
  dirX: Float64Array;
  dirY: Float64Array;
  speed: Float64Array;
  lengthPx: Float64Array;
  widthPx: Float64Array;

  constructor(capacity = 64) {
    this.ids = new Int32Array(capacity);
    this.x = new Float64Array(capacity);
    this.y = new Float64Array(capacity);
    this.dirX = new Float64Array(capacity);
    this.dirY = new Float64Array(capacity);
    this.speed = new Float64Array(capacity);
    this.lengthPx = new Float64Array(capacity);
    this.widthPx = new Float64Array(capacity);
  }

  clear(): this {
    this.n = 0;
    return this;
  }

  private grow(): void {
    const cap = this.ids.length * 2;
    const g = <T extends Int32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(cap);
      b.set(a);
      return b;
    };
    this.ids = g(this.ids);
    this.x = g(this.x);
    this.y = g(this.y);
    this.dirX = g(this.dirX);
    this.dirY = g(this.dirY);
    this.speed = g(this.speed);
    this.lengthPx = g(this.lengthPx);
    this.widthPx = g(this.widthPx);
  }

  /** Appends a car; returns its index. */
  add(id: number, s: CarState, lengthPx: number, widthPx: number): number {
    if (this.n === this.ids.length) this.grow();
    const i = this.n++;
    this.ids[i] = id;
    this.x[i] = s.xPx;
    this.y[i] = s.yPx;
    this.dirX[i] = s.dirX;
    this.dirY[i] = s.dirY;
    this.speed[i] = s.speedPxPerS;
    this.lengthPx[i] = lengthPx;
    this.widthPx[i] = widthPx;
    return i;
  }

  /** Overwrites the state of car i. */
  set(i: number, s: CarState): void {
    this.x[i] = s.xPx;
    this.y[i] = s.yPx;
    this.dirX[i] = s.dirX;
    this.dirY[i] = s.dirY;
    this.speed[i] = s.speedPxPerS;
  }

  state(i: number): CarState {
    return { xPx: this.x[i]!, yPx: this.y[i]!, dirX: this.dirX[i]!, dirY: this.dirY[i]!, speedPxPerS: this.speed[i]! };
  }

  indexOf(id: number): number {
    for (let i = 0; i < this.n; i++) if (this.ids[i] === id) return i;
    return -1;
  }

  /**
   * Fills this scene with the replayed cars present at `frame`, leaving out the ids in `skip`.
   * Returns this.
   */
  fromReplay(data: ReplayData, frame: number, skip?: ReadonlySet<number> | null): this {
    this.clear();
    const idx = data.carsAt(frame);
    for (let j = 0; j < idx.length; j++) {
      const c = data.cars[idx[j]!]!;
      if (skip && skip.has(c.id)) continue;
      if (this.n === this.ids.length) this.grow();
      const k = frame - c.firstFrame;
      const i = this.n++;
      this.ids[i] = c.id;
      this.x[i] = c.x[k]!;
      this.y[i] = c.y[k]!;
      this.dirX[i] = c.dirX[k]!;
      this.dirY[i] = c.dirY[k]!;
      this.speed[i] = c.speed[k]!;
      this.lengthPx[i] = c.lengthPx;
      this.widthPx[i] = c.widthPx;
    }
    return this;
  }
}
