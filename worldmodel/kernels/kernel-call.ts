/**
 * Runs registered tfjs kernels directly at the backend level, below the engine: no tensors, no
 * tape, no scopes, only TensorInfo handles. Our own kernels are built from the backend's stock
 * kernels this way (a Conv2D, a Transpose, a Slice ...), which keeps them fast on wasm and cpu and
 * keeps the engine's tensor count untouched. Every intermediate result is released by dispose().
 */
import * as tf from '@tensorflow/tfjs';

type Info = tf.TensorInfo;

export class KernelCalls {
  private readonly temps: Info[] = [];

  constructor(
    readonly backend: tf.KernelBackend,
    /** The registry name of `backend` (the kernel function itself is not told it). */
    readonly backendName: string,
  ) {}

  /** Runs kernel `name` of this backend; the result is an intermediate until kept. */
  run(name: string, inputs: Record<string, Info>, attrs: Record<string, unknown> = {}): Info {
    const kernel = tf.getKernel(name, this.backendName);
    if (!kernel) throw new Error(`kernel '${name}' is not registered for backend '${this.backendName}'`);
    const out = kernel.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend: this.backend });
    const info = Array.isArray(out) ? out[0]! : out;
    this.temps.push(info);
    return info;
  }

  /** Adopts a result made outside run() (e.g. by a stock kernel called directly) as an intermediate. */
  track(info: Info): Info {
    this.temps.push(info);
    return info;
  }

  reshape(x: Info, shape: number[]): Info {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: Info, perm: number[]): Info {
    return this.run('Transpose', { x }, { perm });
  }

  /** Slices [begin, begin + size) on every axis; returns x itself when nothing is cut. */
  slice(x: Info, begin: number[], size: number[]): Info {
    if (begin.every((b) => b === 0) && size.every((s, i) => s === x.shape[i])) return x;
    return this.run('Slice', { x }, { begin, size });
  }

  /** Zero padding, [before, after] per axis; returns x itself when there is none. */
  pad(x: Info, paddings: Array<[number, number]>): Info {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  concat(xs: Info[], axis: number): Info {
    if (xs.length === 1) return xs[0]!;
    // Concat takes its inputs as an array; kernelFunc receives whatever object it is given.
    return this.run('Concat', xs as unknown as Record<string, Info>, { axis });
  }

  zeros(shape: number[]): Info {
    return this.run('Fill', {}, { shape, value: 0, dtype: 'float32' });
  }

  /** Stock 2-D convolution (NHWC) with explicit or named padding. */
  conv2d(x: Info, filter: Info, strides: [number, number], dilations: [number, number], pad: unknown): Info {
    return this.run('Conv2D', { x, filter }, { strides, dilations, pad, dataFormat: 'NHWC', dimRoundingMode: undefined });
  }

  /** The values of `info` (a copy on wasm, the backend's own array on cpu: do not modify). */
  read(info: Info): tf.TypedArray {
    return this.backend.readSync(info.dataId) as tf.TypedArray;
  }

  /**
   * Read-only values of `info` without a copy where the backend allows (a view of the wasm heap,
   * cpu's own array). Valid only until the next allocation on the backend.
   */
  view(info: Info): tf.TypedArray {
    const wasm = this.backend as unknown as { typedArrayFromHeap?: (i: Info) => tf.TypedArray };
    return wasm.typedArrayFromHeap ? wasm.typedArrayFromHeap(info) : this.read(info);
  }

  /**
   * A new float32 tensor filled in place by `fill` (written straight into the wasm heap there;
   * `fill` must not allocate on the backend, which could move the heap).
   */
  produce(shape: number[], fill: (out: Float32Array) => void): Info {
    const n = shape.reduce((a, b) => a * b, 1);
    const wasm = this.backend as unknown as { makeOutput?: (s: number[], d: string) => Info; typedArrayFromHeap?: (i: Info) => tf.TypedArray };
    let info: Info;
    if (wasm.makeOutput && wasm.typedArrayFromHeap) {
      info = wasm.makeOutput(shape, 'float32');
      this.temps.push(info);
      fill(wasm.typedArrayFromHeap(info) as Float32Array);
    } else {
      const values = new Float32Array(n);
      fill(values);
      info = { dataId: this.backend.write(values, shape, 'float32'), shape, dtype: 'float32' };
      this.temps.push(info);
    }
    return info;
  }

  /**
   * A new tensor with uninitialised values (an intermediate until kept): wasm heap memory to be
   * written by a kernel, or zeros on other backends.
   */
  alloc(shape: number[], dtype: 'float32' | 'int32' = 'float32'): Info {
    const wasm = this.backend as unknown as { makeOutput?: (s: number[], d: string) => Info };
    let info: Info;
    if (wasm.makeOutput) info = wasm.makeOutput(shape, dtype);
    else {
      const n = shape.reduce((a, b) => a * b, 1);
      info = { dataId: this.backend.write(dtype === 'int32' ? new Int32Array(n) : new Float32Array(n), shape, dtype), shape, dtype };
    }
    this.temps.push(info);
    return info;
  }

  /** A new float32 tensor holding `values` (an intermediate until kept). */
  fromValues(shape: number[], values: Float32Array): Info {
    const info: Info = { dataId: this.backend.write(values, shape, 'float32'), shape, dtype: 'float32' };
    this.temps.push(info);
    return info;
  }

  /** Marks `info` as a result: dispose() leaves it alone. */
  keep(info: Info): Info {
    const i = this.temps.lastIndexOf(info);
    if (i >= 0) this.temps.splice(i, 1);
    return info;
  }

  /** Releases every intermediate (reference-counted: a reshape shares its input's data). */
  dispose(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
  }
}
