/**
 * End-to-end: the viewer page in Debian's Chromium (software WebGL through SwiftShader), driven
 * by playwright-core, on the shipped demo scenario served by the same service `ppuu app` uses.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ViewerService } from '../../renderer/server/viewer-service.js';
import { startViewerServer } from '../../renderer/server/http-server.js';
import type { ViewerServer } from '../../renderer/server/http-server.js';
import { createScenarioSource } from '../../renderer/server/scenario-source.js';
import { loadScenarioFile } from '../../scenarios/validate.js';
import { CAR_FOCUS } from '../../renderer/protocol/types.js';
import type { ViewerFrame } from '../../renderer/protocol/types.js';
import { launchChromium, outputDir, SKIP_NO_CHROMIUM } from './helpers/browser.js';
import { colourStats } from './helpers/pixels.js';

const DEMO = 'scenarios/demo.json';
/** A frame of the demo's first episode at which the bot is being driven by its controller (set in before()). */
let K = 0;

let browser: Browser | null = null;
let server: ViewerServer | null = null;
let page: Page;
const pageErrors: string[] = [];

function focusOf(f: ViewerFrame) {
  for (let i = 0; i < f.cars.id.length; i++) {
    if (f.cars.flags[i]! & CAR_FOCUS) return { id: f.cars.id[i]!, x: f.cars.xPx[i]!, y: f.cars.yPx[i]!, length: f.cars.lengthPx[i]!, width: f.cars.widthPx[i]! };
  }
  throw new Error(`frame ${f.index} has no focused car`);
}

before(async () => {
  if (SKIP_NO_CHROMIUM) return;
  // 30 frames after the controller takes over (the runner says where that is).
  const source = await createScenarioSource(loadScenarioFile(DEMO).scenarios[0]!, 0);
  let takeover = 0;
  while ((await source.frame(takeover))?.status.startsWith('replaying')) takeover++;
  K = takeover + 30;
  assert.ok(await source.frame(K + 1), `the demo's first episode is driven for at least 31 frames (takeover at ${takeover})`);
  const service = new ViewerService({ scenarioDirs: ['scenarios'], initialFile: DEMO, createSource: createScenarioSource });
  server = await startViewerServer(service, 0);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 640 }, deviceScaleFactor: 1 });
  page.setDefaultTimeout(60_000);
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Opens the page afresh on the demo, paused at frame k (each test starts from its own page state). */
async function openAt(k: number): Promise<void> {
  await page.goto(server!.url);
  await page.waitForFunction(() => window.ppuuViewer?.ready === true);
  await page.evaluate(() => window.ppuuViewer!.pause());
  await page.evaluate((i) => window.ppuuViewer!.seek(i), k);
  await page.waitForFunction((i) => window.ppuuViewer!.state().renderedIndex === i, k);
}

/** Waits for `n` animation frames of the page (the viewer's loop runs once per frame). */
async function animationFrames(n: number): Promise<void> {
  // A string: tsx would wrap a named function here in a helper the page does not have.
  await page.evaluate(`new Promise((done) => { let left = ${n}; const tick = () => (--left <= 0 ? done() : requestAnimationFrame(tick)); requestAnimationFrame(tick); })`);
}

/**
 * Saves a screenshot of the page (for people) and counts colours on the WebGL drawing buffer
 * itself (so that the HUD and the observation inset, whose ego is blue too, do not count).
 */
async function canvasShot(name: string) {
  await page.screenshot({ path: join(outputDir(), name), timeout: 30_000 });
  // Drawing buffer at device pixel ratio 1 (set on the page), so image px = CSS px.
  const url = await page.evaluate(() => window.ppuuViewer!.canvas().toDataURL('image/png'));
  return colourStats(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'));
}

test('demo scenario: WebGL2, yellow and blue cars, the blue car where the simulation puts it', { skip: SKIP_NO_CHROMIUM, timeout: 120_000 }, async () => {
  // What the scenario runner says, computed here independently of the page.
  const scenario = loadScenarioFile(DEMO).scenarios[0]!;
  const source = await createScenarioSource(scenario, 0);
  const expected = focusOf((await source.frame(K))!);
  const status = (await source.frame(K))!.status;
  assert.match(status, /^driving: idm$/, `frame ${K} should be driven, got '${status}'`);

  await page.goto(server!.url);
  await page.waitForFunction(() => window.ppuuViewer?.ready === true);
  assert.equal(await page.evaluate(() => window.ppuuViewer!.error), null);
  assert.equal(await page.evaluate(() => window.ppuuViewer!.webgl), 2);
  assert.equal(await page.evaluate(() => !!window.ppuuViewer!.canvas().getContext('webgl2')), true);
  await page.evaluate(() => window.ppuuViewer!.pause());
  await page.evaluate((k) => window.ppuuViewer!.seek(k), K);
  await page.waitForFunction((k) => window.ppuuViewer!.state().renderedIndex === k, K);
  const onPage = await page.evaluate(() => window.ppuuViewer!.focus());
  assert.equal(onPage!.id, expected.id);
  assert.ok(Math.abs(onPage!.xPx - expected.x) < 1e-3 && Math.abs(onPage!.yPx - expected.y) < 1e-3);
  assert.match((await page.textContent('#hud-frame'))!, new RegExp(`^${K} / `));
  // The timeline has the episode's real length from the start, not the scenario's bound.
  let n = 0;
  while (await source.frame(n)) n++;
  assert.equal(await page.textContent('#frame-label'), `${K} / ${n - 1}`);
  assert.equal(await page.getAttribute('#timeline', 'max'), String(n - 1));

  const stats = await canvasShot(`demo-frame-${K}.png`);
  assert.ok(stats.yellow > 500, `yellow pixels: ${stats.yellow}`);
  assert.ok(stats.blue > 100, `blue pixels: ${stats.blue}`);
  // Car edges are smoothed (partly covered pixels blend car and road), even without multisampling.
  assert.equal(await page.evaluate(() => window.ppuuViewer!.canvas().getContext('webgl2')!.getContextAttributes()!.antialias), false, 'SwiftShader: no MSAA');
  assert.ok(stats.yellowEdge > 0.05 * stats.yellow, `blended edge pixels: ${stats.yellowEdge} for ${stats.yellow} yellow`);
  // The blue car's box on screen holds the simulated centre and has the car's size.
  const c = await page.evaluate(([x, y]) => window.ppuuViewer!.worldToScreen(x!, y!), [expected.x, expected.y]);
  const zoom = (await page.evaluate(([x, y]) => window.ppuuViewer!.worldToScreen(x! + 1, y!), [expected.x, expected.y])).x - c.x;
  const box = stats.blueBox!;
  assert.ok(box.x0 <= c.x && c.x <= box.x1 && box.y0 <= c.y && c.y <= box.y1, `centre ${JSON.stringify(c)} in box ${JSON.stringify(box)}`);
  assert.ok(Math.abs(stats.blueCentre!.x - c.x) < 0.12 * expected.length * zoom + 1.5, `centroid x ${stats.blueCentre!.x} vs ${c.x}`);
  assert.ok(Math.abs(stats.blueCentre!.y - c.y) < 2, `centroid y ${stats.blueCentre!.y} vs ${c.y}`);
  const lengthOnScreen = box.x1 - box.x0 + 1;
  assert.ok(Math.abs(lengthOnScreen - expected.length * zoom) < 0.15 * expected.length * zoom + 2, `length ${lengthOnScreen} vs ${expected.length * zoom}`);
});

test('pause and step move exactly one frame', { skip: SKIP_NO_CHROMIUM, timeout: 60_000 }, async () => {
  const scenario = loadScenarioFile(DEMO).scenarios[0]!;
  const source = await createScenarioSource(scenario, 0);
  const next = focusOf((await source.frame(K + 1))!);
  await openAt(K);
  assert.equal(await page.evaluate(() => window.ppuuViewer!.state().playing), false);
  await page.click('#btn-step');
  await page.waitForFunction((k) => window.ppuuViewer!.state().renderedIndex === k, K + 1);
  const s = await page.evaluate(() => window.ppuuViewer!.state());
  assert.equal(s.index, K + 1);
  assert.equal(s.playing, false);
  const f = await page.evaluate(() => window.ppuuViewer!.focus());
  assert.ok(Math.abs(f!.xPx - next.x) < 1e-3 && Math.abs(f!.yPx - next.y) < 1e-3);
  assert.match((await page.textContent('#frame-label'))!, new RegExp(`^${K + 1} / `));
  await animationFrames(20);
  assert.equal(await page.evaluate(() => window.ppuuViewer!.state().index), K + 1, 'still paused');
  await page.click('#btn-back');
  await page.waitForFunction((k) => window.ppuuViewer!.state().renderedIndex === k, K);
  // Play moves on, pause stops.
  await page.click('#btn-play');
  await page.waitForFunction((k) => window.ppuuViewer!.state().index > k + 2, K);
  await page.click('#btn-play');
  const stopped = await page.evaluate(() => window.ppuuViewer!.state());
  assert.equal(stopped.playing, false);
  await animationFrames(20);
  assert.equal(await page.evaluate(() => window.ppuuViewer!.state().index), stopped.index);
});

test('a lost WebGL context is restored with the same picture', { skip: SKIP_NO_CHROMIUM, timeout: 60_000 }, async () => {
  await openAt(K);
  const before = await page.evaluate(() => window.ppuuViewer!.state().renderCount);
  await page.evaluate(() => {
    const gl = window.ppuuViewer!.canvas().getContext('webgl2')!;
    (window as unknown as { loseExt: WEBGL_lose_context }).loseExt = gl.getExtension('WEBGL_lose_context')!;
    (window as unknown as { loseExt: WEBGL_lose_context }).loseExt.loseContext();
  });
  await page.waitForSelector('#message:not([hidden])');
  assert.match((await page.textContent('#message'))!, /WebGL context lost/);
  await page.evaluate(() => (window as unknown as { loseExt: WEBGL_lose_context }).loseExt.restoreContext());
  await page.waitForSelector('#message', { state: 'hidden' });
  await page.evaluate(() => window.ppuuViewer!.step(1));
  await page.waitForFunction((n) => window.ppuuViewer!.state().renderCount > n, before);
  const stats = await canvasShot('after-context-restore.png');
  assert.ok(stats.yellow > 500 && stats.blue > 100, `after restore: yellow ${stats.yellow}, blue ${stats.blue}`);
});

test('an invalid scenario shows a clear one-line error in the page', { skip: SKIP_NO_CHROMIUM, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ppuu-bad-'));
  const file = join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({ name: 'bad', map: 'i80', dataset: { kind: 'synth', seed: 1, minutes: 1 }, ego: { kind: 'split', split: 'test' }, controller: { kind: 'teleport' } }, null, 2));
  await page.goto(`${server!.url}?scenario=${encodeURIComponent(file)}`);
  await page.waitForFunction(() => window.ppuuViewer?.ready === true);
  await page.waitForSelector('#error:not([hidden])');
  const text = (await page.textContent('#error'))!;
  assert.match(text, /bad\.json:\d+: field \$\.controller\.kind: must be one of "replay", "no-action", "idm", "policy", "mpc", got "teleport"/);
  assert.equal(text.trim().split('\n').length, 1);
  assert.equal(pageErrors.length, 0, pageErrors.join('\n'));
});
