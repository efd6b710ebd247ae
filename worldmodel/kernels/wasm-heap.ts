/**
 * The tfjs wasm backend's heap as this project's kernels see it: byte addresses of tensors, views
 * of the whole heap, a permanent block of zeros (what a convolution reads where its window lies
 * outside the input), and the generated matrix products (gemm-wasm.ts) bound to that memory.
 * null for any other backend, or where the products cannot run (a shared-memory build).
 *
 * Everything this project runs on the heap can be switched off (setHeapKernelsEnabled(false), or
 * 'heap' in PPUU_STOCK_KERNELS): the kernels then take their XNNPACK-based paths, Adam its
 * JavaScript loop and Identity copies, which is how benchmarks measure the difference.
 */
import * as tf from '@tensorflow/tfjs';
import { gemmFor, type Gemm } from './gemm-wasm.js';

interface WasmBackendLike {
  wasm: {
    asm?: { memory?: WebAssembly.Memory };
    wasmMemory?: WebAssembly.Memory;
    HEAPF32: Float32Array;
  };
  dataIdMap: { get(dataId: object): { memoryOffset: number | null } | undefined; has(dataId: object): boolean };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

export class WasmHeap {
  private zeros: tf.TensorInfo | null = null;
  private zeroCount = 0;

  private constructor(
    private readonly be: WasmBackendLike,
    readonly memory: WebAssembly.Memory,
    readonly gemm: Gemm,
  ) {}

  /** The heap of `backend` if it is a tfjs wasm backend whose memory the products can use. */
  static of(backend: tf.KernelBackend): WasmHeap | null {
    if (!heapKernels) return null;
    const cached = heaps.get(backend);
    if (cached !== undefined) return cached;
    const be = backend as unknown as Partial<WasmBackendLike>;
    const memory = be.wasm?.asm?.memory ?? be.wasm?.wasmMemory;
    let heap: WasmHeap | null = null;
    if (memory instanceof WebAssembly.Memory && be.dataIdMap && be.makeOutput) {
      const gemm = gemmFor(memory);
      if (gemm) heap = new WasmHeap(be as WasmBackendLike, memory, gemm);
    }
    heaps.set(backend, heap);
    return heap;
  }

  /** Whether `info`'s data lives on this heap now (data of another backend is not moved here). */
  owns(info: tf.TensorInfo): boolean {
    if (!this.be.dataIdMap.has(info.dataId)) return false;
    const d = this.be.dataIdMap.get(info.dataId);
    return !!d && d.memoryOffset != null;
  }

  /** Byte address of `info`'s first value. */
  address(info: tf.TensorInfo): number {
    const d = this.be.dataIdMap.get(info.dataId);
    if (!d || d.memoryOffset == null) throw new Error('wasm heap: tensor has no memory on this backend');
    return d.memoryOffset;
  }

  /** A float32 view of the whole heap (valid until the next allocation). */
  f32(): Float32Array {
    return new Float32Array(this.memory.buffer);
  }

  /** An int32 view of the whole heap (valid until the next allocation). */
  i32(): Int32Array {
    return new Int32Array(this.memory.buffer);
  }

  /**
   * Address of at least `count` zero floats that stay allocated (and zero) for the life of the
   * backend. May allocate: take heap views after calling it.
   */
  zeroAddress(count: number): number {
    if (!this.zeros || this.zeroCount < count) {
      // The old block stays allocated: products issued but not yet run may still read it.
      this.zeroCount = Math.max(count, 4096);
      this.zeros = this.be.makeOutput([this.zeroCount], 'float32');
      const a = this.address(this.zeros);
      this.f32().fill(0, a / 4, a / 4 + this.zeroCount);
    }
    return this.address(this.zeros);
  }
}

const heaps = new WeakMap<tf.KernelBackend, WasmHeap | null>();

let heapKernels = !(typeof process !== 'undefined' && (process.env.PPUU_STOCK_KERNELS ?? '').split(',').map((s) => s.trim()).includes('heap'));

/** Turns this project's heap kernels on or off (A/B measurements; see the file comment). */
export function setHeapKernelsEnabled(on: boolean): void {
  heapKernels = on;
}

export function heapKernelsEnabled(): boolean {
  return heapKernels;
}

/**
 * The config of a copying kernel (Slice, Concat, PadV2) that runs `body` on the heap when every
 * input is a 4-byte tensor (float32, int32: copied as integers, bit-exact) the heap holds, all
 * of one dtype, and the stock kernel otherwise. `body` gets the heap and the backend's
 * makeOutput.
 */
export function heapCopyKernelConfig(
  kernelName: string,
  backendName: string,
  stock: tf.KernelConfig,
  body: (args: Parameters<tf.KernelFunc>[0], heap: WasmHeap, makeOutput: (shape: number[], dtype: tf.DataType) => tf.TensorInfo) => tf.TensorInfo,
): tf.KernelConfig {
  return {
    kernelName,
    backendName,
    setupFunc: stock.setupFunc,
    kernelFunc: (args) => {
      const inputs = Object.values(args.inputs as Record<string, tf.TensorInfo>);
      const heap = WasmHeap.of(args.backend as tf.KernelBackend);
      const dtype = inputs[0]?.dtype;
      if (!heap || inputs.length === 0 || (dtype !== 'float32' && dtype !== 'int32') || !inputs.every((t) => t.dtype === dtype && heap.owns(t))) {
        return stock.kernelFunc(args);
      }
      const be = args.backend as unknown as { makeOutput(shape: number[], dtype: string): tf.TensorInfo };
      return body(args, heap, (shape, dt) => be.makeOutput(shape, dt));
    },
  };
}
