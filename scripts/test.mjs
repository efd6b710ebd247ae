#!/usr/bin/env node
// Runs node's test runner (through tsx) on every test/**/*.test.ts file, or on the files and
// folders given as arguments. Node 20's runner does not expand '**' globs or find .ts files itself.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const flags = process.argv.slice(2).filter((a) => a.startsWith('-'));
const files = [];
for (const root of roots.length > 0 ? roots : ['test']) {
  const path = resolve(root);
  if (statSync(path).isDirectory()) {
    for (const f of readdirSync(path, { recursive: true })) {
      if (String(f).endsWith('.test.ts')) files.push(join(path, String(f)));
    }
  } else files.push(path);
}
// The runner starts files in this order, two at a time: the longest first (measured on the 2-core
// machine when the list was made: seconds of their tests in a full run, without each process's
// start-up; the policy e2e file has since dropped to about half), so that the short ones fill
// in at the end instead of a long one running alone. Files not listed follow in name order.
const LONGEST_FIRST = [
  'test/cli/pipeline.test.ts', // 61
  'test/renderer/policy.e2e.test.ts', // 46
  'test/worldmodel/webgpu.test.ts', // 40 (SwiftShader, in a child process)
  'test/cli/bundle.test.ts', // 23
  'test/cli/signals.test.ts', // 17
  'test/policy/km-train.test.ts', // 17
  'test/policy/cli.test.ts', // 16
  'test/scenarios/conformance.test.ts', // 15
  'test/data/synth.test.ts', // 14
  'test/worldmodel/fm/cli.test.ts', // 11
];
const rank = (f) => {
  const i = LONGEST_FIRST.findIndex((name) => f.endsWith(join(...name.split('/'))));
  return i < 0 ? LONGEST_FIRST.length : i;
};
files.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', ...flags, ...files],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
