/**
 * Vehicle kinematics and action extraction (docs/method.md section 2). Every car, logged traffic
 * included, moves through the same model, one step of dt = 0.1 s:
 *
 *   pos   += speed * dir * dt
 *   dir    = normalize(dir + ortho(dir) * b * speed * dt),  ortho(d) = (d_y, -d_x)  (points left)
 *   speed += a * dt
 *
 * Units: positions px (rear centre of the car), speed px/s, acceleration a px/s^2, steering b
 * in 1/px (a curvature: the heading turns by about b * speed * dt radians per step; b > 0
 * steers left, towards smaller y). Actions are clipped to |a| <= 40 px/s^2 and
 * |b| <= 0.01 * min((25 / length_px)^2, 1).
 *
 * The reference normalises the new direction with norm + 1e-3, which shortens it by about 0.1 %
 * per step; here the direction is an exact unit vector.
 */
import { MAX_ACCEL_PX_PER_S2, MAX_STEER_BASE } from './units.js';
import { DT_S } from '../data/layout.js';

/** Kinematic state of one car. */
export interface CarState {
  /** Rear centre, px. */
  xPx: number;
  yPx: number;
  /** Unit heading. */
  dirX: number;
  dirY: number;
  speedPxPerS: number;
}

/** Largest |b| allowed for a car of this length. */
export function maxSteer(lengthPx: number): number {
  return MAX_STEER_BASE * Math.min((25 / lengthPx) ** 2, 1);
}

function clamp(v: number, lim: number): number {
  return v > lim ? lim : v < -lim ? -lim : v;
}

/** Clips an action to the limits of a car of length `lengthPx`; returns [a, b]. */
export function clipAction(aPxPerS2: number, b: number, lengthPx: number): [number, number] {
  return [clamp(aPxPerS2, MAX_ACCEL_PX_PER_S2), clamp(b, maxSteer(lengthPx))];
}

/** Applies one step of the kinematic model in place (no clipping: clip before if needed). */
export function stepCar(s: CarState, aPxPerS2: number, b: number, dtS = DT_S): void {
  const { dirX, dirY, speedPxPerS: v } = s;
  s.xPx += v * dirX * dtS;
  s.yPx += v * dirY * dtS;
  // ortho(d) = (d_y, -d_x)
  const k = b * v * dtS;
  const nx = dirX + dirY * k;
  const ny = dirY - dirX * k;
  const norm = Math.hypot(nx, ny);
  s.dirX = nx / norm;
  s.dirY = ny / norm;
  s.speedPxPerS = v + aPxPerS2 * dtS;
}

/** The action that changes (dir, speed) of `s` into the target velocity, unclipped. */
export function actionTowards(s: CarState, targetSpeedPxPerS: number, targetDirX: number, targetDirY: number, dtS = DT_S): [number, number] {
  const a = (targetSpeedPxPerS - s.speedPxPerS) / dtS;
  // (dir_new - dir) . ortho(dir), ortho(dir) = (dir_y, -dir_x)
  const proj = (targetDirX - s.dirX) * s.dirY - (targetDirY - s.dirY) * s.dirX;
  const b = proj / (s.speedPxPerS * dtS + 1e-6);
  return [a, b];
}

export interface ExtractedTrajectory {
  /** Number of steps: states 0..n-1, each with the action taken there. */
  n: number;
  x: Float64Array;
  y: Float64Array;
  dirX: Float64Array;
  dirY: Float64Array;
  speed: Float64Array;
  /** Clipped actions: a px/s^2, b 1/px. */
  a: Float64Array;
  b: Float64Array;
}

/** Heading at the start: the first displacement of at least 0.99 px per step (about 5 ft/s), else the longest, else +x. */
export function initialDirection(tx: ArrayLike<number>, ty: ArrayLike<number>, m: number): [number, number] {
  let best = -1;
  let bestNorm = 1e-6;
  for (let k = 0; k + 1 < m; k++) {
    const n = Math.hypot(tx[k + 1]! - tx[k]!, ty[k + 1]! - ty[k]!);
    if (n >= 0.99) {
      best = k;
      break;
    }
    if (n > bestNorm) {
      bestNorm = n;
      best = k;
    }
  }
  if (best < 0) return [1, 0];
  const dx = tx[best + 1]! - tx[best]!;
  const dy = ty[best + 1]! - ty[best]!;
  const n = Math.hypot(dx, dy);
  return [dx / n, dy / n];
}

/**
 * Drives a car along the smoothed logged positions (tx, ty)[0..m-1] (rear centre, px): starts at
 * p[0] with the heading of initialDirection and speed |p[1] - p[0]| / dt, and at each step k
 * extracts the clipped action that makes the next velocity match the logged displacement
 * p[k+2] - p[k+1]. Gives m - 2 steps (each needs two logged points ahead).
 */
export function extractTrajectory(
  tx: ArrayLike<number>,
  ty: ArrayLike<number>,
  m: number,
  lengthPx: number,
  dtS = DT_S,
): ExtractedTrajectory {
  const n = Math.max(0, m - 2);
  const out: ExtractedTrajectory = {
    n,
    x: new Float64Array(n),
    y: new Float64Array(n),
    dirX: new Float64Array(n),
    dirY: new Float64Array(n),
    speed: new Float64Array(n),
    a: new Float64Array(n),
    b: new Float64Array(n),
  };
  if (n === 0) return out;
  const [d0x, d0y] = initialDirection(tx, ty, m);
  const s: CarState = {
    xPx: tx[0]!,
    yPx: ty[0]!,
    dirX: d0x,
    dirY: d0y,
    speedPxPerS: Math.hypot(tx[1]! - tx[0]!, ty[1]! - ty[0]!) / dtS,
  };
  for (let k = 0; k < n; k++) {
    out.x[k] = s.xPx;
    out.y[k] = s.yPx;
    out.dirX[k] = s.dirX;
    out.dirY[k] = s.dirY;
    out.speed[k] = s.speedPxPerS;
    const ex = tx[k + 2]! - tx[k + 1]!;
    const ey = ty[k + 2]! - ty[k + 1]!;
    const norm = Math.hypot(ex, ey);
    // A (nearly) static target keeps the current heading (no steering), as the reference does.
    const tdx = norm > 1e-6 ? ex / norm : s.dirX;
    const tdy = norm > 1e-6 ? ey / norm : s.dirY;
    const [ra, rb] = actionTowards(s, norm / dtS, tdx, tdy, dtS);
    const [a, b] = clipAction(ra, rb, lengthPx);
    out.a[k] = a;
    out.b[k] = b;
    stepCar(s, a, b, dtS);
  }
  return out;
}
