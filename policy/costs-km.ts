/**
 * Costs of an imagined step with the ego separated from the world (docs/method.md section 9, the
 * reference fork's tapered masks): the frame (predicted, or the logged future) is a picture of
 * the world centred on a reference pose p_ref (the pose the frame is centred on: the world
 * model's own predicted ego state, or the expert's logged pose); the ego is where the kinematic
 * model puts it, p_km. The cost masks are functions of metric coordinates relative to p_km, so
 * moving the ego moves the mask over the frame, and the costs' gradient reaches the actions
 * through dp = c_km - c_ref (car centres) and the heading difference, while the image itself is
 * cut from the gradient.
 *
 * Frame coordinates of pixel (row i, column j), metres: forward f = (58 - i) / 1.62, rightward
 * s = (j - 11.5) / 1.62 (1.62 obs px per metre; row 0 at the front, column 0 on the left).
 * Relative to the kinematic ego, in its own frame:
 *   u = dp . d_ref, w = dp . r_ref            (r = (-d_y, d_x), the right-hand vector)
 *   cos = d_km . d_ref, sin = d_km . r_ref
 *   x' = cos (f - u) + sin (s - w),   y' = -sin (f - u) + cos (s - w)
 * Masks, with L, W the ego's length and width (m) and v its speed (m/s, detached):
 *   x_s = 1.5 max(v, 10) + 1.5 L + 1,   y_d = W / 2 + 3.7
 *   z_x = relu((x_s - |x'|) / (x_s - L / 2)),   r_y = relu((y_d - |y'|) / (y_d - W / 2))
 *   proximity  M_p = z_x^2 min(r_y, 1)^2,   lane / off-road  M_l = z_x^2 r_y^2
 *   cost = sum(M G^2) / (sum(M) + 1e-6) with G the channel (green: cars, red: lanes, off-road)
 * Keep-in-frame: R = relu(|u| - 30 m)^4 + relu(|w| - 5 m)^4 (the frame reaches 35.8 m and 7.1 m).
 */
import * as tf from '@tensorflow/tfjs';
import { IMAGE_H, IMAGE_PX_PER_M, IMAGE_W, LANE_W_M, SCALE_PX_PER_M } from '../data/layout.js';
import { detach, OBS_SCALE, type CarSizes } from './costs.js';
import { hostOps } from '../worldmodel/backend.js';
import { fusedKmCosts, type MaskGeometry } from './costs-km-fused.js';
import { detachPose, type EgoPose } from './kinematic-ego.js';

/** Observation pixels per metre (1.62). */
export const OBS_PX_PER_M = IMAGE_PX_PER_M;
export const KM_SAFE_TIME_S = 1.5;
/** Speed floor of the safe distance, m/s. */
export const KM_MIN_SPEED_M_PER_S = 10;
/** Keep-in-frame limits, m (ahead / behind, sideways). */
export const FRAME_LIMIT_FORWARD_M = 30;
export const FRAME_LIMIT_SIDEWAYS_M = 5;

/** Row centres, m ahead of the frame's centre: (58 - i) / 1.62. */
const ROW_M = Float32Array.from({ length: IMAGE_H }, (_, i) => ((IMAGE_H - 1) / 2 - i) / OBS_PX_PER_M);
/** Column centres, m to the right of the frame's centre: (j - 11.5) / 1.62. */
const COL_M = Float32Array.from({ length: IMAGE_W }, (_, j) => (j - (IMAGE_W - 1) / 2) / OBS_PX_PER_M);

export interface KmCosts {
  /** [N] each. */
  proximity: tf.Tensor1D;
  lane: tf.Tensor1D;
  /** Null for 3-channel images. */
  offroad: tf.Tensor1D | null;
  /** Keep-in-frame term [N]. */
  frame: tf.Tensor1D;
}

function channel(images: tf.Tensor4D, c: number): tf.Tensor3D {
  const [n, h, w] = images.shape;
  return tf.reshape(tf.slice(images, [0, 0, 0, c], [-1, -1, -1, 1]), [n, h, w]);
}

/** min(x, 1) without Minimum (whose gradient does not reduce broadcast axes in tfjs). */
function atMostOne(x: tf.Tensor): tf.Tensor {
  return tf.sub(x, tf.relu(tf.sub(x, 1)));
}

/** Car centre (m) of a pose whose rear centre is in px: rear + d L / 2. */
function centreM(p: EgoPose, lengthPx: tf.Tensor1D): { x: tf.Tensor1D; y: tf.Tensor1D } {
  const half = tf.mul(lengthPx, 0.5);
  return {
    x: tf.div(tf.add(p.x, tf.mul(p.dx, half)), SCALE_PX_PER_M) as tf.Tensor1D,
    y: tf.div(tf.add(p.y, tf.mul(p.dy, half)), SCALE_PX_PER_M) as tf.Tensor1D,
  };
}

/** The ego's offset from the frame centre in the frame's axes (m) and the heading change: u, w, cos, sin [N]. */
export function egoOffset(km: EgoPose, ref: EgoPose, cars: CarSizes): { u: tf.Tensor1D; w: tf.Tensor1D; cos: tf.Tensor1D; sin: tf.Tensor1D } {
  const r = detachPose(ref, detach);
  const lengthPx = tf.tensor1d(cars.lengthObsPx.map((l) => l / OBS_SCALE));
  const ck = centreM(km, lengthPx);
  const cr = centreM(r, lengthPx);
  const ex = tf.sub(ck.x, cr.x);
  const ey = tf.sub(ck.y, cr.y);
  // r_ref = (-d_y, d_x)
  return {
    u: tf.add(tf.mul(ex, r.dx), tf.mul(ey, r.dy)) as tf.Tensor1D,
    w: tf.sub(tf.mul(ey, r.dx), tf.mul(ex, r.dy)) as tf.Tensor1D,
    cos: tf.add(tf.mul(km.dx, r.dx), tf.mul(km.dy, r.dy)) as tf.Tensor1D,
    sin: tf.sub(tf.mul(km.dy, r.dx), tf.mul(km.dx, r.dy)) as tf.Tensor1D,
  };
}

/** The proximity and lane masks [N, 117, 24] for the ego at `km` over frames centred on `ref`. */
export function kmMasks(km: EgoPose, ref: EgoPose, cars: CarSizes): { proximity: tf.Tensor3D; lane: tf.Tensor3D; u: tf.Tensor1D; w: tf.Tensor1D } {
  const n = cars.lengthObsPx.length;
  const o = egoOffset(km, ref, cars);
  const col3 = (t: tf.Tensor1D) => tf.reshape(t, [n, 1, 1]);
  const f = tf.sub(tf.tensor3d(ROW_M, [1, IMAGE_H, 1]), col3(o.u));
  const s = tf.sub(tf.tensor3d(COL_M, [1, 1, IMAGE_W]), col3(o.w));
  const c = col3(o.cos);
  const sn = col3(o.sin);
  const xp = tf.add(tf.mul(c, f), tf.mul(sn, s));
  const yp = tf.sub(tf.mul(c, s), tf.mul(sn, f));
  const L = tf.tensor3d(cars.lengthObsPx.map((l) => l / OBS_PX_PER_M), [n, 1, 1]);
  const W = tf.tensor3d(cars.widthObsPx.map((w) => w / OBS_PX_PER_M), [n, 1, 1]);
  const vM = detach(tf.div(km.v, SCALE_PX_PER_M));
  const vFloor = tf.add(tf.relu(tf.sub(vM, KM_MIN_SPEED_M_PER_S)), KM_MIN_SPEED_M_PER_S);
  const xs = tf.add(tf.add(tf.mul(col3(vFloor as tf.Tensor1D), KM_SAFE_TIME_S), tf.mul(L, 1.5)), 1);
  const yd = tf.add(tf.mul(W, 0.5), LANE_W_M);
  const zx = tf.relu(tf.div(tf.sub(xs, tf.abs(xp)), tf.sub(xs, tf.mul(L, 0.5))));
  const ry = tf.relu(tf.div(tf.sub(yd, tf.abs(yp)), tf.sub(yd, tf.mul(W, 0.5))));
  const zx2 = tf.square(zx);
  return {
    proximity: tf.mul(zx2, tf.square(atMostOne(ry))) as tf.Tensor3D,
    lane: tf.mul(zx2, tf.square(ry)) as tf.Tensor3D,
    u: o.u,
    w: o.w,
  };
}

function maskedMean(mask: tf.Tensor3D, values: tf.Tensor3D): tf.Tensor1D {
  return tf.div(tf.sum(tf.mul(mask, tf.square(values)), [1, 2]), tf.add(tf.sum(mask, [1, 2]), 1e-6)) as tf.Tensor1D;
}

/** relu(|x| - limit)^4. */
function beyond(x: tf.Tensor1D, limit: number): tf.Tensor1D {
  return tf.pow(tf.relu(tf.sub(tf.abs(x), limit)), 4) as tf.Tensor1D;
}

/** The masks' sizes (m) of each row for detached speeds (m/s): x_s, y_d, L / 2, W / 2. */
function maskGeometry(cars: CarSizes): (speedM: Float32Array) => MaskGeometry {
  return (speedM) => {
    const n = speedM.length;
    const g: MaskGeometry = { xs: new Float32Array(n), yd: new Float32Array(n), halfL: new Float32Array(n), halfW: new Float32Array(n) };
    for (let r = 0; r < n; r++) {
      const L = cars.lengthObsPx[r]! / OBS_PX_PER_M;
      const W = cars.widthObsPx[r]! / OBS_PX_PER_M;
      g.xs[r] = Math.max(speedM[r]!, KM_MIN_SPEED_M_PER_S) * KM_SAFE_TIME_S + 1.5 * L + 1;
      g.yd[r] = W / 2 + LANE_W_M;
      g.halfL[r] = L / 2;
      g.halfW[r] = W / 2;
    }
    return g;
  };
}

const GRID = { rowM: ROW_M, colM: COL_M };

/**
 * Costs of frames `images` [N, 117, 24, C] in [0, 1] (cut from the gradient here) centred on
 * `ref`, for the ego at `km` (both [N] poses), with the ego sizes of each row. On host backends
 * the masked means come from the fused op (the same function, tested equal), elsewhere from
 * kmMasks' tfjs ops.
 */
export function kmCosts(images: tf.Tensor4D, km: EgoPose, ref: EgoPose, cars: CarSizes): KmCosts {
  if (cars.lengthObsPx.length !== images.shape[0]) throw new Error(`km costs: ${images.shape[0]} images but ${cars.lengthObsPx.length} car sizes`);
  return hostOps() ? fusedCosts(images, km, ref, cars) : opsCosts(images, km, ref, cars);
}

/** kmCosts through kmMasks' tfjs ops. */
export function opsCosts(images: tf.Tensor4D, km: EgoPose, ref: EgoPose, cars: CarSizes): KmCosts {
  const img = detach(images);
  const m = kmMasks(km, ref, cars);
  return {
    proximity: maskedMean(m.proximity, channel(img, 1)),
    lane: maskedMean(m.lane, channel(img, 0)),
    offroad: img.shape[3] >= 4 ? maskedMean(m.lane, channel(img, 2)) : null,
    frame: frameTerm(m.u, m.w),
  };
}

/** kmCosts through the fused op. */
export function fusedCosts(images: tf.Tensor4D, km: EgoPose, ref: EgoPose, cars: CarSizes): KmCosts {
  const o = egoOffset(km, ref, cars);
  const c = fusedKmCosts(images, tf.stack([o.u, o.w, o.cos, o.sin], 1) as tf.Tensor2D, detach(tf.div(km.v, SCALE_PX_PER_M)) as tf.Tensor1D, maskGeometry(cars), GRID);
  const [proximity, lane, offroad] = tf.unstack(c, 1) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
  return { proximity, lane, offroad: images.shape[3] >= 4 ? offroad : null, frame: frameTerm(o.u, o.w) };
}

function frameTerm(u: tf.Tensor1D, w: tf.Tensor1D): tf.Tensor1D {
  return tf.add(beyond(u, FRAME_LIMIT_FORWARD_M), beyond(w, FRAME_LIMIT_SIDEWAYS_M)) as tf.Tensor1D;
}
