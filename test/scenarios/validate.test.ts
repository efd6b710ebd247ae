import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../common/errors.js';
import { lineOfPointer, pointerToJsonPath } from '../../scenarios/json-locate.js';
import { loadScenarioFile, parseScenarioText, DEFAULT_DISPLAY } from '../../scenarios/validate.js';
import { tempDir } from '../helpers/temp.js';

const base = {
  name: 'x',
  map: 'i80',
  dataset: { kind: 'synth', seed: 1, minutes: 1 },
  ego: { kind: 'split', split: 'test' },
  controller: { kind: 'replay' },
};

/** The UserError message for a document given as pretty-printed JSON. */
function errorOf(doc: unknown, file = 'f.json'): string {
  try {
    parseScenarioText(JSON.stringify(doc, null, 2), file);
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    assert.equal(e.message.split('\n').length, 1, 'one line');
    return e.message;
  }
  assert.fail('expected the document to be rejected');
}

test('shipped demo scenario and suites validate, with defaults filled in', () => {
  for (const f of ['scenarios/demo.json', 'scenarios/suites/synth-test-baselines.json', 'scenarios/suites/synth-test-slots.json']) {
    const sf = loadScenarioFile(f);
    assert.ok(sf.scenarios.length >= 1, f);
    for (const s of sf.scenarios) {
      assert.equal(s.contextFrames, 20);
      assert.ok(s.seeds.length >= 1);
      assert.equal(typeof s.display.showGhost, 'boolean');
    }
  }
  const demo = loadScenarioFile('scenarios/demo.json');
  assert.equal(demo.kind, 'scenario');
  assert.equal(demo.scenarios[0]!.dataset.kind, 'synth');
  const suite = loadScenarioFile('scenarios/suites/synth-test-baselines.json');
  assert.equal(suite.kind, 'suite');
  assert.deepEqual(
    suite.scenarios.map((s) => s.controller.kind),
    ['replay', 'no-action', 'idm'],
  );
  assert.equal(suite.scenarios[1]!.source.index, 1);
});

test('defaults: display, seeds, window and duration', () => {
  const sf = parseScenarioText(JSON.stringify(base), 'd.json', '/base');
  const s = sf.scenarios[0]!;
  assert.deepEqual(s.display, DEFAULT_DISPLAY);
  assert.deepEqual(s.seeds, [0]);
  assert.equal(s.startFrame, null);
  assert.equal(s.durationFrames, 2000);
  assert.equal(s.baseDir, '/base');
  const withDisplay = parseScenarioText(JSON.stringify({ ...base, display: { camera: 'free' } }), 'd.json').scenarios[0]!;
  assert.equal(withDisplay.display.camera, 'free');
  assert.equal(withDisplay.display.showGhost, true);
});

test('errors name the file, the line and the JSON path of the field', () => {
  const bad = errorOf({ ...base, controller: { kind: 'teleport' } });
  const line = JSON.stringify({ ...base, controller: { kind: 'teleport' } }, null, 2).split('\n').findIndex((l) => l.includes('teleport')) + 1;
  assert.equal(bad, `f.json:${line}: field $.controller.kind: must be one of "replay", "no-action", "idm", "policy", "mpc", got "teleport"`);
  assert.match(errorOf({ ...base, controller: { kind: 'policy' } }), /^f\.json:\d+: field \$\.controller\.path: is required$/);
  assert.match(errorOf({ ...base, ego: { kind: 'vehicles', ids: [1, 'a'] } }), /field \$\.ego\.ids\[1\]: must be integer/);
  assert.match(errorOf({ ...base, extra: 1 }), /field \$\.extra: is not allowed here/);
  assert.match(errorOf({ ...base, name: undefined }), /^f\.json:1: field \$\.name: is required$/);
  assert.match(errorOf({ ...base, display: { camera: 'top' } }), /field \$\.display\.camera: must be one of "follow", "free"/);
  assert.match(errorOf({ ...base, slot: '4pm' }), /field \$\.slot: does not match any allowed form/);
  assert.match(errorOf({ ...base, dataset: { kind: 'synth', seed: 1.5, minutes: -1 } }), /field \$\.dataset\.(seed|minutes): .* \(and 1 more problem\)$/);
  assert.match(errorOf([1]), /^f\.json:1: field \$: must be a JSON object/);
});

test('a scenario may name its format, ppuu-scenario, and no other', () => {
  const sf = parseScenarioText(JSON.stringify({ format: 'ppuu-scenario', ...base }), 'f.json');
  assert.equal(sf.kind, 'scenario');
  assert.equal(sf.scenarios[0]!.name, 'x');
  assert.equal(errorOf({ format: 'ppuu-scenarios', ...base }), 'f.json:2: field $.format: must be "ppuu-scenario"');
});

test('suite errors point inside the scenarios array', () => {
  const msg = errorOf({ format: 'ppuu-suite', name: 's', scenarios: [base, { ...base, seeds: [1, 1] }] });
  assert.match(msg, /^f\.json:\d+: field \$\.scenarios\[1\]\.seeds: must not repeat items/);
  assert.match(errorOf({ format: 'ppuu-suite', name: 's', scenarios: [] }), /field \$\.scenarios: must NOT have fewer than 1 items/);
});

test('unreadable and malformed files give one-line errors', () => {
  const dir = tempDir('ppuu-scn-');
  assert.throws(() => loadScenarioFile(join(dir, 'nope.json')), (e: Error) => e instanceof UserError && /nope\.json: cannot read the scenario file \(no such file\)/.test(e.message));
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{\n  "name": "x",\n  "map": \n}\n');
  assert.throws(() => loadScenarioFile(broken), (e: Error) => e instanceof UserError && e.message.startsWith(`${broken}`) && /not valid JSON/.test(e.message) && !e.message.includes('\n'));
});

test('JSON pointers map to JSON paths and to the line of the value', () => {
  assert.equal(pointerToJsonPath(''), '$');
  assert.equal(pointerToJsonPath('/ego/ids/0'), '$.ego.ids[0]');
  assert.equal(pointerToJsonPath('/a~1b/x y'), '$["a/b"]["x y"]');
  const text = '{\n  "a": 1,\n  "b": {\n    "c": [\n      10,\n      {"d": "}]\\""}\n    ]\n  },\n  "e": []\n}';
  assert.equal(lineOfPointer(text, ''), 1);
  assert.equal(lineOfPointer(text, '/a'), 2);
  assert.equal(lineOfPointer(text, '/b/c/0'), 5);
  assert.equal(lineOfPointer(text, '/b/c/1/d'), 6);
  assert.equal(lineOfPointer(text, '/e'), 9);
  // A missing member points at its parent object.
  assert.equal(lineOfPointer(text, '/b/missing'), 3);
  assert.equal(lineOfPointer(text, '/e/3'), 9);
});

test('the IDM overrides documented in scenarios/README.md validate and reach the resolved scenario', () => {
  const readme = readFileSync('scenarios/README.md', 'utf8');
  const m = /`\{"kind": "idm", "(\w+)": \{([\w, ]+)\}\}`/.exec(readme);
  assert.ok(m, 'the README documents the IDM controller with its overrides');
  const [, field, list] = m;
  const names = list!.split(',').map((s) => s.trim());
  assert.deepEqual(names, ['desiredSpeedMps', 'timeGapS', 'minGapM', 'maxAccelMps2', 'comfortDecelMps2']);
  const params = Object.fromEntries(names.map((n, i) => [n, 1 + i * 0.5]));
  const s = parseScenarioText(JSON.stringify({ ...base, controller: { kind: 'idm', [field!]: params } }), 'idm.json').scenarios[0]!;
  assert.deepEqual(s.controller, { kind: 'idm', params });
  assert.match(errorOf({ ...base, controller: { kind: 'idm', [field!]: { desiredSpeed: 20 } } }), /field \$\.controller\.params\.desiredSpeed: is not allowed here/);
  assert.match(errorOf({ ...base, controller: { kind: 'idm', [field!]: { timeGapS: 0 } } }), /field \$\.controller\.params\.timeGapS: must be > 0/);
});
