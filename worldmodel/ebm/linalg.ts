/**
 * Small dense linear algebra in plain TypeScript (Float64Array, row-major), exact enough for the
 * solvers and fits of the energy-based modules on small problems (dimensions up to a few
 * hundred). A matrix is `{ rows, cols, data }` with element (i, j) at data[i * cols + j].
 */

export interface Mat {
  rows: number;
  cols: number;
  data: Float64Array;
}

export function mat(rows: number, cols: number, data?: ArrayLike<number>): Mat {
  const d = new Float64Array(rows * cols);
  if (data) {
    if (data.length !== rows * cols) throw new Error(`mat: ${rows}x${cols} needs ${rows * cols} values, got ${data.length}`);
    d.set(data);
  }
  return { rows, cols, data: d };
}

/** y = A x (A is m x n, x has n values). */
export function matVec(A: Mat, x: ArrayLike<number>, out: Float64Array = new Float64Array(A.rows)): Float64Array {
  const { rows, cols, data } = A;
  for (let i = 0; i < rows; i++) {
    let s = 0;
    const o = i * cols;
    for (let j = 0; j < cols; j++) s += data[o + j]! * x[j]!;
    out[i] = s;
  }
  return out;
}

/** y = A^T x (A is m x n, x has m values). */
export function matTVec(A: Mat, x: ArrayLike<number>, out: Float64Array = new Float64Array(A.cols)): Float64Array {
  const { rows, cols, data } = A;
  out.fill(0);
  for (let i = 0; i < rows; i++) {
    const xi = x[i]!;
    if (xi === 0) continue;
    const o = i * cols;
    for (let j = 0; j < cols; j++) out[j] += data[o + j]! * xi;
  }
  return out;
}

/** C = A B. */
export function matMul(A: Mat, B: Mat): Mat {
  if (A.cols !== B.rows) throw new Error(`matMul: ${A.rows}x${A.cols} times ${B.rows}x${B.cols}`);
  const C = mat(A.rows, B.cols);
  for (let i = 0; i < A.rows; i++) {
    for (let k = 0; k < A.cols; k++) {
      const a = A.data[i * A.cols + k]!;
      if (a === 0) continue;
      const bo = k * B.cols;
      const co = i * B.cols;
      for (let j = 0; j < B.cols; j++) C.data[co + j] += a * B.data[bo + j]!;
    }
  }
  return C;
}

export function transpose(A: Mat): Mat {
  const T = mat(A.cols, A.rows);
  for (let i = 0; i < A.rows; i++) for (let j = 0; j < A.cols; j++) T.data[j * A.rows + i] = A.data[i * A.cols + j]!;
  return T;
}

/** A^T A (n x n Gram matrix of the columns). */
export function gram(A: Mat): Mat {
  return matMul(transpose(A), A);
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function sqDist(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  return s;
}

export function norm2(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/** Column j of A as a new vector. */
export function column(A: Mat, j: number): Float64Array {
  const c = new Float64Array(A.rows);
  for (let i = 0; i < A.rows; i++) c[i] = A.data[i * A.cols + j]!;
  return c;
}

/** Scales every column of A to unit Euclidean norm (zero columns are left as they are). */
export function normaliseColumns(A: Mat): void {
  for (let j = 0; j < A.cols; j++) {
    let s = 0;
    for (let i = 0; i < A.rows; i++) s += A.data[i * A.cols + j]! ** 2;
    const n = Math.sqrt(s);
    if (n === 0) continue;
    for (let i = 0; i < A.rows; i++) A.data[i * A.cols + j] /= n;
  }
}

/**
 * Largest eigenvalue of A^T A (the squared spectral norm of A, the Lipschitz constant of the
 * gradient of 1/2 ||y - A z||^2), by power iteration from a fixed start vector.
 */
export function spectralNormSq(A: Mat, iterations = 200): number {
  let v: Float64Array = new Float64Array(A.cols);
  for (let j = 0; j < A.cols; j++) v[j] = 1 + 0.01 * ((j * 7919) % 13);
  let lambda = 0;
  const Av = new Float64Array(A.rows);
  for (let it = 0; it < iterations; it++) {
    matVec(A, v, Av);
    const w = matTVec(A, Av);
    const n = norm2(w);
    if (n === 0) return 0;
    const next = n / norm2(v);
    for (let j = 0; j < w.length; j++) w[j]! /= n;
    v = w;
    if (Math.abs(next - lambda) <= 1e-12 * next) return next;
    lambda = next;
  }
  return lambda;
}

/**
 * Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations. Returns eigenvalues in
 * decreasing order and the matching unit eigenvectors as the COLUMNS of `vectors`.
 */
export function symmetricEigen(S: Mat, sweeps = 100): { values: Float64Array; vectors: Mat } {
  const n = S.rows;
  if (S.cols !== n) throw new Error('symmetricEigen: matrix is not square');
  const A = mat(n, n, S.data);
  const V = mat(n, n);
  for (let i = 0; i < n; i++) V.data[i * n + i] = 1;
  const a = A.data;
  for (let sweep = 0; sweep < sweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V.data[k * n + p]!;
          const vkq = V.data[k * n + q]!;
          V.data[k * n + p] = c * vkp - s * vkq;
          V.data[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j]! - a[i * n + i]!);
  const values = new Float64Array(n);
  const vectors = mat(n, n);
  order.forEach((src, dst) => {
    values[dst] = a[src * n + src]!;
    for (let k = 0; k < n; k++) vectors.data[k * n + dst] = V.data[k * n + src]!;
  });
  return { values, vectors };
}

/** Soft-thresholding (the proximal operator of t |.|_1), elementwise: sign(u) max(|u| - t, 0). */
export function softThreshold(u: number, t: number): number {
  return u > t ? u - t : u < -t ? u + t : 0;
}

/** Row i of A as a view (no copy). */
export function row(A: Mat, i: number): Float64Array {
  return A.data.subarray(i * A.cols, (i + 1) * A.cols);
}
