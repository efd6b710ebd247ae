/**
 * One step of the kinematic ego on packed poses, as one differentiable op computed on the host
 * with its analytic Jacobian: the same function as physicalActions -> kinematicStep ->
 * statesFromPose (kinematic-ego.ts) in tfjs ops, which cost about 30 small kernels forward and
 * 70 backward per imagined step (a quarter of a km policy update on the wasm backend:
 * policy/README.md).
 *
 * Inputs per row: the pose (x, y, dx, dy, v) and the normalised action (alpha_a, alpha_b);
 * output: the next pose and its standardised state, (X, Y, DX, DY, V, S_0 .. S_3):
 *   a = alpha_a sd_a + m_a,  b = alpha_b sd_b + m_b,  k = b v dt
 *   n_x = dx + k dy,  n_y = dy - k dx,  n = sqrt(n_x^2 + n_y^2 + 1e-16)
 *   X = x + v dt dx,  Y = y + v dt dy,  DX = n_x / n,  DY = n_y / n,  V = v + a dt
 *   S = ((X, Y, V DX, V DY) - state mean) / state std
 */
import * as tf from '@tensorflow/tfjs';
import type { NormStats } from '../data/dataset-types.js';

/** Columns of a packed pose. */
export const POSE_COLS = 5;
/** Columns of the step's output: the next pose and its standardised state. */
export const STEP_COLS = 9;
const IN_COLS = 7;

/** Values [B * 9] and Jacobian [B * 9 * 7] (d out_i / d in_j at (r * 9 + i) * 7 + j; inputs x, y, dx, dy, v, alpha_a, alpha_b). */
export function hostKinematicStep(pose: Float32Array, actions: Float32Array, stats: NormStats, dtS: number): { values: Float32Array; jacobian: Float32Array } {
  const rows = pose.length / POSE_COLS;
  const values = new Float32Array(rows * STEP_COLS);
  const jacobian = new Float32Array(rows * STEP_COLS * IN_COLS);
  const [sdA, sdB] = [stats.actionStd[0]!, stats.actionStd[1]!];
  const [mA, mB] = [stats.actionMean[0]!, stats.actionMean[1]!];
  const inv = [0, 1, 2, 3].map((i) => 1 / stats.stateStd[i]!);
  for (let r = 0; r < rows; r++) {
    const p = r * POSE_COLS;
    const [x, y, dx, dy, v] = [pose[p]!, pose[p + 1]!, pose[p + 2]!, pose[p + 3]!, pose[p + 4]!];
    const a = actions[2 * r]! * sdA + mA;
    const b = actions[2 * r + 1]! * sdB + mB;
    const vdt = v * dtS;
    const k = b * vdt;
    const nx = dx + k * dy;
    const ny = dy - k * dx;
    const n2 = nx * nx + ny * ny + 1e-16;
    const n = Math.sqrt(n2);
    const n3 = n2 * n;
    const X = x + vdt * dx;
    const Y = y + vdt * dy;
    const DX = nx / n;
    const DY = ny / n;
    const V = v + a * dtS;
    const out = [X, Y, DX, DY, V, (X - stats.stateMean[0]!) * inv[0]!, (Y - stats.stateMean[1]!) * inv[1]!, (V * DX - stats.stateMean[2]!) * inv[2]!, (V * DY - stats.stateMean[3]!) * inv[3]!];
    values.set(out, r * STEP_COLS);
    // d(n_x, n_y) / d(dx, dy, v, alpha_b), through k: dk/dv = b dt, dk/dalpha_b = sd_b v dt.
    const dk = { v: b * dtS, ab: sdB * vdt };
    const dNx = { dx: 1, dy: k, v: dy * dk.v, ab: dy * dk.ab };
    const dNy = { dx: -k, dy: 1, v: -dx * dk.v, ab: -dx * dk.ab };
    // d(DX, DY) / d(n_x, n_y).
    const DXx = (ny * ny + 1e-16) / n3;
    const DXy = (-nx * ny) / n3;
    const DYx = DXy;
    const DYy = (nx * nx + 1e-16) / n3;
    const head = (gx: number, gy: number) => ({
      dx: gx * dNx.dx + gy * dNy.dx,
      dy: gx * dNx.dy + gy * dNy.dy,
      v: gx * dNx.v + gy * dNy.v,
      ab: gx * dNx.ab + gy * dNy.ab,
    });
    const gDX = head(DXx, DXy);
    const gDY = head(DYx, DYy);
    // Rows of the Jacobian: [x, y, dx, dy, v, alpha_a, alpha_b].
    const J: number[][] = [
      [1, 0, vdt, 0, dtS * dx, 0, 0],
      [0, 1, 0, vdt, dtS * dy, 0, 0],
      [0, 0, gDX.dx, gDX.dy, gDX.v, 0, gDX.ab],
      [0, 0, gDY.dx, gDY.dy, gDY.v, 0, gDY.ab],
      [0, 0, 0, 0, 1, dtS * sdA, 0],
    ];
    // S_2 = (V DX - m) / sd: d = (DX dV + V dDX) / sd; likewise S_3 with DY.
    const speedTimes = (D: number, dD: number[]) => J[4]!.map((dV, j) => D * dV + V * dD[j]!);
    J.push(J[0]!.map((d) => d * inv[0]!), J[1]!.map((d) => d * inv[1]!), speedTimes(DX, J[2]!).map((d) => d * inv[2]!), speedTimes(DY, J[3]!).map((d) => d * inv[3]!));
    const base = r * STEP_COLS * IN_COLS;
    J.forEach((row, i) => jacobian.set(row, base + i * IN_COLS));
  }
  return { values, jacobian };
}

/** The op on packed poses [B, 5] and normalised actions [B, 2]: [B, 9], differentiable in both. */
export function fusedKinematicStep(pose: tf.Tensor2D, actions: tf.Tensor2D, stats: NormStats, dtS: number): tf.Tensor2D {
  const op = tf.customGrad(((p: tf.Tensor2D, a: tf.Tensor2D, save: tf.GradSaveFunc) => {
    const rows = p.shape[0];
    const r = hostKinematicStep(p.dataSync() as Float32Array, a.dataSync() as Float32Array, stats, dtS);
    const jac = tf.tensor3d(r.jacobian, [rows, STEP_COLS, IN_COLS]);
    save([jac]);
    return {
      value: tf.tensor2d(r.values, [rows, STEP_COLS]),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const g = tf.sum(tf.mul(tf.reshape(dy, [rows, STEP_COLS, 1]), saved[0]!), 1) as tf.Tensor2D;
        return tf.split(g, [POSE_COLS, IN_COLS - POSE_COLS], 1);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (p: tf.Tensor2D, a: tf.Tensor2D) => tf.Tensor2D;
  return op(pose, actions);
}
