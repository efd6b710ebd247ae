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
files.sort();
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
