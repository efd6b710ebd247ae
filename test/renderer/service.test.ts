import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { I80_MAP, lowerEdgeY } from '../../sim/map.js';
import { roadDrawing } from '../../renderer/server/road-drawing.js';
import { ViewerService } from '../../renderer/server/viewer-service.js';
import { startViewerServer } from '../../renderer/server/http-server.js';
import { decodeMessage } from '../../renderer/protocol/codec.js';
import type { Envelope } from '../../renderer/protocol/api.js';
import type { FrameChunk, ScenarioListing, SceneInfo } from '../../renderer/protocol/types.js';
import { patternSource, patternCar } from './helpers/pattern-source.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('ppuu-viewer-');
const good = { name: 'good one', map: 'i80', dataset: { kind: 'synth', seed: 1, minutes: 1 }, ego: { kind: 'vehicles', ids: [0] }, controller: { kind: 'replay' }, display: { startPaused: true } };
mkdirSync(join(dir, 'scn'));
writeFileSync(join(dir, 'scn', 'good.json'), JSON.stringify(good, null, 2));
writeFileSync(join(dir, 'scn', 'bad.json'), JSON.stringify({ ...good, controller: { kind: 'teleport' } }, null, 2));
writeFileSync(join(dir, 'scn', 'notes.txt'), 'not a scenario');
const created: string[] = [];
const service = new ViewerService({
  rootDir: dir,
  scenarioDirs: ['scn'],
  initialFile: join(dir, 'scn', 'good.json'),
  maxSessions: 2,
  createSource: async (s, episode) => {
    created.push(`${s.name}#${episode}`);
    return patternSource({ cars: 12, frames: 300, endAt: 200 });
  },
});

test('road drawing: paved area, every marking of the map, zones from its validity window', () => {
  const d = roadDrawing(I80_MAP);
  assert.equal(d.widthPx, 2040);
  assert.equal(d.heightPx, 264);
  assert.equal(d.markings.length, I80_MAP.markings.length);
  assert.equal(d.markings.filter((m) => m.style === 'dashed').length, 5, 'the five lane lines between the six main lanes');
  for (const m of d.markings) for (let i = 0; i < m.points.length; i += 2) assert.ok(m.points[i]! >= 0 && m.points[i]! <= 2040);
  const poly = d.surfaces[0]!.points;
  const ys = poly.filter((_, i) => i % 2 === 1);
  assert.equal(Math.min(...ys), I80_MAP.topPx);
  // The lower boundary follows the map's lower edge (ramp included).
  for (let i = 0; i < poly.length; i += 2) {
    if (poly[i + 1] === I80_MAP.topPx) continue;
    assert.ok(Math.abs(poly[i + 1]! - lowerEdgeY(I80_MAP, poly[i]!)) < 1e-9);
  }
  assert.deepEqual(d.zones, { recordStartXPx: I80_MAP.validMinXPx, arrivalXPx: I80_MAP.validMaxXPx });
});

test('service: lists scenario files (invalid ones with their error) and names the initial one', () => {
  const list = service.listScenarios() as Envelope<ScenarioListing[]>;
  assert.ok(list.ok);
  const byFile = Object.fromEntries(list.value.map((l) => [l.file, l]));
  assert.deepEqual(Object.keys(byFile).sort(), ['scn/bad.json', 'scn/good.json']);
  assert.equal(byFile['scn/good.json']!.error, null);
  assert.deepEqual(byFile['scn/good.json']!.scenarios, ['good one']);
  assert.match(byFile['scn/bad.json']!.error!, /^scn\/bad\.json:\d+: field \$\.controller\.kind: must be one of/);
  const init = service.initial();
  assert.ok(init.ok);
  assert.deepEqual(init.value, { file: 'scn/good.json', scenario: 0, episode: 0 });
});

test('service: loads by file or text, returns user errors as one-line envelopes, serves packed frames', async () => {
  const r = (await service.loadScenario({ file: 'scn/good.json' })) as Envelope<SceneInfo>;
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.value.scenario.name, 'good one');
  assert.equal(r.value.display.startPaused, true);
  assert.equal(r.value.maxFrames, 300);
  // The episode was run to its end at load: its real length is known from the start.
  assert.equal(r.value.length, 200);
  assert.equal(created.at(-1), 'good one#0');
  const bytes = await service.frames(r.value.sessionId, 5, 10);
  assert.ok(bytes instanceof Uint8Array);
  const chunk = decodeMessage<FrameChunk>(bytes);
  assert.equal(chunk.from, 5);
  assert.equal(chunk.frames.length, 10);
  assert.equal(chunk.frames[3]!.index, 8);
  assert.ok(Math.abs(chunk.frames[3]!.cars.xPx[0]! - patternCar(0, 8).xPx) < 1e-3);
  assert.equal(chunk.total, 200);
  const tail = decodeMessage<FrameChunk>((await service.frames(r.value.sessionId, 190, 64)) as Uint8Array);
  assert.equal(tail.frames.length, 10);
  assert.equal(tail.total, 200);
  assert.deepEqual(tail.ended, { atFrame: 199, reason: 'pattern end' });

  const bad = await service.loadScenario({ file: 'scn/bad.json' });
  assert.equal(bad.ok, false);
  assert.match((bad as { error: string }).error, /^scn\/bad\.json:\d+: field \$\.controller\.kind/);
  const text = await service.loadScenario({ text: '{"name": 3}', name: 'dropped.json' });
  assert.match((text as { error: string }).error, /^dropped\.json:1: field \$\.name: must be string/);
  assert.match(((await service.loadScenario({ file: 'scn/notes.txt' })) as { error: string }).error, /must be a \.json file/);
  assert.match(((await service.loadScenario({ file: 'scn/good.json', scenario: 3 })) as { error: string }).error, /has no scenario number 3/);
  assert.match(((await service.frames('nope', 0, 1)) as { error: string }).error, /no viewer session 'nope'/);
  assert.match(((await service.frames(r.value.sessionId, -1, 1)) as { error: string }).error, /from must be an integer/);
});

test('service: keeps at most maxSessions sessions', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push(((await service.loadScenario({ file: 'scn/good.json', episode: 0 })) as { value: SceneInfo }).value.sessionId);
  assert.equal((await service.frames(ids[0]!, 0, 1) as { ok: boolean }).ok, false, 'oldest dropped');
  assert.ok((await service.frames(ids[2]!, 0, 1)) instanceof Uint8Array);
});

function get(port: number, path: string, host = `127.0.0.1:${port}`, method = 'GET', body?: string): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { host, 'content-type': 'application/json' } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(parts) }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

let closeServer: (() => Promise<void>) | null = null;
after(async () => closeServer?.());

test('server: 127.0.0.1 only, serves the page and the API, refuses foreign Host headers', async () => {
  const server = await startViewerServer(service, 0);
  closeServer = server.close;
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const page = await get(server.port, '/');
  assert.equal(page.status, 200);
  assert.match(page.body.toString(), /<script type="module" src="\.\/viewer\.js">/);
  const js = await get(server.port, '/viewer.js');
  assert.equal(js.status, 200);
  assert.match(js.type, /javascript/);
  assert.ok(js.body.length > 100_000, 'bundle includes three.js');
  assert.equal((await get(server.port, '/', 'evil.example:80')).status, 403);
  assert.equal((await get(server.port, '/nope')).status, 404);
  const list = JSON.parse((await get(server.port, '/api/scenarios')).body.toString()) as Envelope<ScenarioListing[]>;
  assert.ok(list.ok && list.value.length === 2);
  const loaded = JSON.parse((await get(server.port, '/api/load', undefined, 'POST', JSON.stringify({ file: 'scn/good.json' }))).body.toString()) as Envelope<SceneInfo>;
  assert.ok(loaded.ok);
  const frames = await get(server.port, `/api/frames?session=${loaded.value.sessionId}&from=0&count=4`);
  assert.equal(frames.type, 'application/octet-stream');
  assert.equal(decodeMessage<FrameChunk>(new Uint8Array(frames.body)).frames.length, 4);
  const badLoad = JSON.parse((await get(server.port, '/api/load', undefined, 'POST', '{oops')).body.toString()) as Envelope<never>;
  assert.equal(badLoad.ok, false);
});
