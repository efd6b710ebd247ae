/**
 * _FusedMatMul (matrix product + bias + activation, what tf.fused.matMul and dense layers run)
 * for wasm through this project's products (batch-mat-mul.ts matMulGemm): the stock kernel
 * packs its right operand (the weights) into an XNNPACK operator per tensor, about 3 ns per
 * weight on this machine, and a training update makes every weight a new tensor. The activation
 * is applied by the backend's own element-wise kernel. Cases not covered (non-float inputs,
 * a bias that is not one row, batch layouts matMulGemm leaves out) go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelCalls } from './kernel-call.js';
import { WasmHeap } from './wasm-heap.js';
import { matMulGemm } from './batch-mat-mul.js';

type Info = tf.TensorInfo;

interface FusedAttrs {
  transposeA: boolean;
  transposeB: boolean;
  activation?: string;
  leakyreluAlpha?: number;
}

/** Applies a fused activation with the backend's kernels; null for one this file does not know. */
function activate(calls: KernelCalls, x: Info, activation: string | undefined, alpha: number | undefined, prelu: Info | undefined): Info | null {
  switch (activation ?? 'linear') {
    case 'linear':
      return x;
    case 'relu':
      return calls.run('Relu', { x });
    case 'relu6':
      return calls.run('Relu6', { x });
    case 'elu':
      return calls.run('Elu', { x });
    case 'sigmoid':
      return calls.run('Sigmoid', { x });
    case 'leakyrelu':
      return calls.run('LeakyRelu', { x }, { alpha: alpha ?? 0.2 });
    case 'prelu':
      return prelu ? calls.run('Prelu', { x, alpha: prelu }) : null;
    default:
      return null;
  }
}

export function fusedMatMulConfig(backendName: string, stock: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: '_FusedMatMul',
    backendName,
    setupFunc: stock.setupFunc,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const { a, b, bias, preluActivationWeights } = inputs as Record<string, Info | undefined>;
      const at = attrs as unknown as FusedAttrs;
      const heap = WasmHeap.of(backend as tf.KernelBackend);
      const known = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'].includes(at.activation ?? 'linear');
      if (!heap || !a || !b || a.dtype !== 'float32' || b.dtype !== 'float32' || !known || (bias && bias.dtype !== 'float32')) {
        return stock.kernelFunc(args);
      }
      const calls = new KernelCalls(backend as tf.KernelBackend, backendName);
      try {
        const n = at.transposeB ? b.shape[b.shape.length - 2]! : b.shape[b.shape.length - 1]!;
        // A bias of one row is folded into the product; other shapes are added with broadcasting.
        const rowBias = bias && bias.shape.reduce((p, q) => p * q, 1) === n ? bias : undefined;
        let y = matMulGemm(calls, heap, a, b, at.transposeA, at.transposeB, rowBias);
        if (!y) return stock.kernelFunc(args);
        calls.track(y);
        if (bias && !rowBias) y = calls.run('Add', { a: y, b: bias });
        const z = activate(calls, y, at.activation, at.leakyreluAlpha, preluActivationWeights);
        if (!z) return stock.kernelFunc(args);
        return calls.keep(z);
      } finally {
        calls.dispose();
      }
    },
  };
}
