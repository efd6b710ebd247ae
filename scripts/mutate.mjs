#!/usr/bin/env node
// Mutation testing (a benchmark, not part of `npm test`): `npm run mutate -- PATH...` mutates the
// given source files with StrykerJS, runs the test files that guard them (node's test runner
// through tsx, read as TAP by @stryker-mutator/tap-runner, one process per test file and mutant,
// only the files that cover the mutant) and prints a JSON summary: per file the mutants, killed,
// survived, timed out, not covered, and the score (killed + timed out) / (all valid mutants),
// with every surviving mutant's place and replacement.
//
// Flags: --tests a,b (test files instead of the table below), --concurrency N (default 1),
// --timeout-ms N (extra time per test run, default 20000). Stryker's own report goes to
// reports/mutation/ (mutation.json, and this summary as summary.json; ignored by git); its
// sandbox to .stryker-tmp/. STRYKER_LOG=info shows Stryker's progress.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

/** The test files that guard each module of the method (docs/method.md); other files fall back to a name match. */
const TESTS = {
  'sim/kinematics.ts': ['test/sim/kinematics.test.ts', 'test/sim/replay.test.ts'],
  'sim/costs.ts': ['test/sim/raster.test.ts', 'test/policy/costs.test.ts'],
  'sim/raster/': ['test/sim/raster.test.ts', 'test/sim/raster-mutants.test.ts'],
  'sim/evaluate.ts': ['test/sim/env.test.ts'],
  'sim/env.ts': ['test/sim/env.test.ts'],
  'sim/episode.ts': ['test/sim/dump.test.ts'],
  'policy/costs.ts': ['test/policy/costs.test.ts'],
  'policy/costs-km.ts': ['test/policy/km.test.ts', 'test/policy/costs.test.ts'],
  'policy/kinematic-ego.ts': ['test/policy/km.test.ts'],
  'policy/objectives.ts': ['test/policy/objectives.test.ts', 'test/policy/objectives-km.test.ts', 'test/policy/mpur.test.ts'],
  'worldmodel/fm/model.ts': ['test/worldmodel/fm/model.test.ts', 'test/worldmodel/fm/losses-step.test.ts'],
  'worldmodel/fm/losses.ts': ['test/worldmodel/fm/model.test.ts', 'test/worldmodel/fm/losses-step.test.ts'],
  'worldmodel/fm/train-step.ts': ['test/worldmodel/fm/losses-step.test.ts', 'test/worldmodel/fm/train.test.ts'],
  'data/import/': ['test/data/import-units.test.ts', 'test/data/import-mutants.test.ts', 'test/data/import.test.ts'],
  'data/synth/idm.ts': ['test/data/idm-mobil.test.ts'],
  'data/synth/mobil.ts': ['test/data/idm-mobil.test.ts'],
  'scenarios/schema.ts': ['test/scenarios/validate.test.ts'],
  'common/npy.ts': ['test/common/npy.test.ts'],
};

function testsFor(file) {
  for (const [k, v] of Object.entries(TESTS)) if (file === k || (k.endsWith('/') && file.startsWith(k))) return v;
  // test/<same folder>/<name>*.test.ts, else every test of the top folder.
  const dir = join('test', dirname(file));
  const name = basename(file, '.ts');
  const near = existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith(name) && f.endsWith('.test.ts')).map((f) => join(dir, f)) : [];
  if (near.length > 0) return near;
  const top = join('test', file.split('/')[0]);
  return readdirSync(top, { recursive: true }).map(String).filter((f) => f.endsWith('.test.ts')).map((f) => join(top, f));
}

const argv = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
};
const testsFlag = flag('--tests', null);
const concurrency = Number(flag('--concurrency', '1'));
const timeoutMS = Number(flag('--timeout-ms', '20000'));
const files = argv.map((p) => relative(root, resolve(p)).replace(/\\/g, '/'));
if (files.length === 0 || files.some((f) => !existsSync(f) || !f.endsWith('.ts'))) {
  console.error('usage: npm run mutate -- FILE.ts... [--tests a.test.ts,b.test.ts] [--concurrency N] [--timeout-ms N]');
  process.exit(2);
}
const testFiles = testsFlag ? testsFlag.split(',') : [...new Set(files.flatMap(testsFor))];

const { Stryker } = await import('@stryker-mutator/core');
const stryker = new Stryker({
  mutate: files,
  testRunner: 'tap',
  tap: { testFiles, nodeArgs: ['--import', 'tsx', '-r', '{{hookFile}}', '{{testFile}}'], forceBail: true },
  plugins: ['@stryker-mutator/tap-runner'],
  coverageAnalysis: 'perTest',
  concurrency,
  timeoutMS,
  // Stryker logs on stdout: warnings only, so that the summary below is the output.
  logLevel: process.env.STRYKER_LOG ?? 'warn',
  reporters: ['json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  // Stryker rewrites the tsconfig through the TypeScript JS API, which TypeScript 7 (native) does
  // not have; tsx ignores the tsconfig's paths anyway, so no tsconfig is named.
  tsconfigFile: 'no-tsconfig-for-stryker.json',
  cleanTempDir: 'always',
  // The sandbox needs the sources and tests, not the run outputs or other sessions' data.
  ignorePatterns: ['runs', 'out', 'test-output', 'reports', '.stryker-tmp'],
});
const results = await stryker.runMutationTest();

const UNDETECTED = new Set(['Survived', 'NoCoverage']);
const perFile = {};
for (const r of results) {
  const f = relative(root, r.fileName).replace(/\\/g, '/');
  const s = (perFile[f] ??= { mutants: 0, killed: 0, survived: 0, timeout: 0, noCoverage: 0, errors: 0, ignored: 0, score: null, survivors: [] });
  s.mutants++;
  if (r.status === 'Killed') s.killed++;
  else if (r.status === 'Survived') s.survived++;
  else if (r.status === 'Timeout') s.timeout++;
  else if (r.status === 'NoCoverage') s.noCoverage++;
  else if (r.status === 'Ignored') s.ignored++;
  else s.errors++;
  if (UNDETECTED.has(r.status)) s.survivors.push({ line: r.location.start.line, column: r.location.start.column + 1, mutator: r.mutatorName, replacement: r.replacement, status: r.status });
}
const total = { mutants: 0, killed: 0, survived: 0, timeout: 0, noCoverage: 0, errors: 0, ignored: 0, score: null };
for (const s of Object.values(perFile)) {
  const valid = s.killed + s.timeout + s.survived + s.noCoverage;
  s.score = valid === 0 ? null : Math.round((1000 * (s.killed + s.timeout)) / valid) / 10;
  for (const k of ['mutants', 'killed', 'survived', 'timeout', 'noCoverage', 'errors', 'ignored']) total[k] += s[k];
}
const valid = total.killed + total.timeout + total.survived + total.noCoverage;
total.score = valid === 0 ? null : Math.round((1000 * (total.killed + total.timeout)) / valid) / 10;
const summary = JSON.stringify({ testFiles, files: perFile, total }, null, 1) + '\n';
mkdirSync('reports/mutation', { recursive: true });
writeFileSync('reports/mutation/summary.json', summary);
process.stdout.write(summary);
