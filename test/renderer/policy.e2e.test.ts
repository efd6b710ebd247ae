/**
 * End-to-end in Debian's Chromium: a tiny run's suite (an untrained policy, IDM, no-action, and a
 * tiny world model) in the viewer. The policy scenario loads without error and the blue bot is
 * drawn away from its ghost; the outcome table fills for every controller and the controller menu
 * switches the bot for the same episode; imagination updates while playing, one request at a
 * time, without moving any element of the page. Each test opens its own page.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import type { Browser, Page } from 'playwright-core';
import { ViewerService } from '../../renderer/server/viewer-service.js';
import { startViewerServer } from '../../renderer/server/http-server.js';
import type { ViewerServer } from '../../renderer/server/http-server.js';
import { createScenarioSource } from '../../renderer/server/scenario-source.js';
import { registerControllers } from '../../policy/register-controllers.js';
import { loadScenarioFile } from '../../scenarios/validate.js';
import type { ViewerFrame } from '../../renderer/protocol/types.js';
import { isBlue } from '../../renderer/web/palette.js';
import { launchChromium, outputDir, SKIP_NO_CHROMIUM } from './helpers/browser.js';
import { writeTinyRun } from './helpers/tiny-run.js';
import type { TinyRun } from './helpers/tiny-run.js';

let run: TinyRun;
let browser: Browser | null = null;
let server: ViewerServer | null = null;
/** A frame where the policy drives and its car is well away from its ghost (set in before()). */
let K = 0;
let gapPx = 0;

before(async () => {
  if (SKIP_NO_CHROMIUM) return;
  registerControllers();
  run = await writeTinyRun();
  // Where the policy's car and its ghost are furthest apart (computed here, apart from the page).
  const source = await createScenarioSource(loadScenarioFile(run.suite).scenarios[0]!, 0);
  for (let i = 0; ; i++) {
    const f: ViewerFrame | null = await source.frame(i);
    if (!f) break;
    if (!f.status.startsWith('driving') || f.ghosts.id.length === 0) continue;
    const gap = Math.hypot(f.cars.xPx[focusIndex(f)]! - f.ghosts.xPx[0]!, f.cars.yPx[focusIndex(f)]! - f.ghosts.yPx[0]!);
    if (gap > gapPx) [gapPx, K] = [gap, i];
    if (gapPx > 12) break;
  }
  assert.ok(gapPx > 6, `the untrained policy leaves its ghost (largest gap ${gapPx.toFixed(1)} px)`);
  const service = new ViewerService({ rootDir: run.dir, scenarioDirs: [run.dir], initialFile: run.suite, createSource: createScenarioSource });
  server = await startViewerServer(service, 0);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

function focusIndex(f: ViewerFrame): number {
  for (let i = 0; i < f.cars.id.length; i++) if (f.cars.flags[i]! & 2) return i;
  return -1;
}

async function openPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 1280, height: 640 }, deviceScaleFactor: 1 });
  page.setDefaultTimeout(90_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(server!.url);
  await page.waitForFunction(() => window.ppuuViewer?.ready === true);
  return { page, errors };
}

/** The canvas's drawing buffer (device pixel ratio 1: image px = CSS px). */
async function canvasPixels(page: Page): Promise<PNG> {
  const url = await page.evaluate(() => window.ppuuViewer!.canvas().toDataURL('image/png'));
  return PNG.sync.read(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'));
}

function centroid(img: PNG, keep: (i: number) => boolean): { x: number; y: number; n: number } {
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (!keep((y * img.width + x) * 4)) continue;
      sx += x;
      sy += y;
      n++;
    }
  }
  return { x: sx / n, y: sy / n, n };
}

test('a policy scenario loads with no error and the blue bot is drawn away from its ghost', { skip: SKIP_NO_CHROMIUM, timeout: 180_000 }, async () => {
  const { page, errors } = await openPage();
  try {
    assert.equal(await page.evaluate(() => window.ppuuViewer!.error), null);
    const info = (await page.evaluate(() => window.ppuuViewer!.info))!;
    assert.equal(info.scenario.name, 'policy (best)');
    assert.equal(info.scenario.controller, 'policy (best)');
    await page.evaluate((k) => window.ppuuViewer!.seek(k), K);
    await page.waitForFunction((k) => window.ppuuViewer!.state().renderedIndex === k, K);
    assert.match((await page.textContent('#hud-status'))!, /^driving: policy$/);
    const withGhost = await canvasPixels(page);
    await page.screenshot({ path: join(outputDir(), `policy-frame-${K}.png`) });
    await page.uncheck('#ghost-toggle');
    await page.waitForFunction(() => window.ppuuViewer!.state().renderCount > 0);
    const before = await page.evaluate(() => window.ppuuViewer!.state().renderCount);
    await page.evaluate(() => window.ppuuViewer!.step(0));
    await page.waitForFunction((n) => window.ppuuViewer!.state().renderCount > n, before);
    const noGhost = await canvasPixels(page);
    // The ghost is what the toggle removes; the bot is the blue pixels.
    const d = withGhost.data;
    const e = noGhost.data;
    const ghost = centroid(withGhost, (i) => Math.abs(d[i]! - e[i]!) + Math.abs(d[i + 1]! - e[i + 1]!) + Math.abs(d[i + 2]! - e[i + 2]!) > 60);
    const bot = centroid(noGhost, (i) => isBlue(e[i]!, e[i + 1]!, e[i + 2]!));
    assert.ok(bot.n > 100 && ghost.n > 50, `bot ${bot.n} px, ghost ${ghost.n} px`);
    const zoom = await page.evaluate(() => window.ppuuViewer!.worldToScreen(1, 0).x - window.ppuuViewer!.worldToScreen(0, 0).x);
    const apart = Math.hypot(bot.x - ghost.x, bot.y - ghost.y);
    assert.ok(apart > 0.5 * gapPx * zoom, `on screen the bot is ${apart.toFixed(1)} px from its ghost (simulated gap ${(gapPx * zoom).toFixed(1)} px)`);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('the outcome table fills for every controller of the episode, and the menu switches the bot', { skip: SKIP_NO_CHROMIUM, timeout: 300_000 }, async () => {
  const { page, errors } = await openPage();
  try {
    const labels = await page.evaluate(() => window.ppuuViewer!.info!.controllers.map((c) => c.label));
    assert.deepEqual(labels, ['policy (best)', 'idm', 'no-action', 'mpc']);
    await page.waitForFunction((n) => window.ppuuViewer!.outcomes().length === n, labels.length, { timeout: 240_000 });
    const rows = await page.$$eval('#outcomes-table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    assert.equal(rows.length, 4);
    for (const r of rows) assert.match(r[1]!, /^(arrived|collided|off-road|timed out|end of data|not driven)/, JSON.stringify(r));
    for (const r of rows) assert.match(r[2]!, /^\d+ m$/);
    assert.equal(await page.getAttribute('#outcomes-table tbody tr.shown', 'data-controller'), '0');
    await page.screenshot({ path: join(outputDir(), 'outcome-table.png') });
    // IDM on the same episode: the scenario menu follows, the table keeps its rows and highlights IDM.
    await page.selectOption('#controller-select', '1');
    await page.waitForFunction(() => window.ppuuViewer!.info?.controllerIndex === 1 && window.ppuuViewer!.outcomes().length === 4);
    assert.equal(await page.evaluate(() => window.ppuuViewer!.info!.scenario.name), 'idm');
    assert.equal(await page.evaluate(() => window.ppuuViewer!.info!.episodeIndex), 0);
    assert.equal(await page.getAttribute('#outcomes-table tbody tr.shown', 'data-controller'), '1');
    // MPC on the same episode.
    await page.selectOption('#controller-select', '3');
    await page.waitForFunction(() => window.ppuuViewer!.info?.controllerIndex === 3);
    await page.evaluate((k) => window.ppuuViewer!.seek(k), K);
    await page.waitForFunction((k) => window.ppuuViewer!.state().renderedIndex === k, K);
    assert.match((await page.textContent('#hud-status'))!, /^driving: mpc$/);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('imagination updates while playing, one request at a time, and the layout does not move', { skip: SKIP_NO_CHROMIUM, timeout: 180_000 }, async () => {
  const { page, errors } = await openPage();
  try {
    const ids = ['topbar', 'stage', 'view', 'panel', 'hud', 'obs-figure', 'imagined-figure', 'imagined-strip', 'spread-canvas', 'outcomes', 'controls', 'timeline'];
    const boxes = () => page.evaluate((list) => list.map((id) => {
      const r = document.getElementById(id)!.getBoundingClientRect();
      return [id, Math.round(r.x), Math.round(r.y), Math.round(r.width), Math.round(r.height)].join(' ');
    }), ids);
    // Before any imagination: frame 0 has no context yet.
    assert.equal(await page.evaluate(() => window.ppuuViewer!.state().index), 0);
    assert.equal(await page.evaluate(() => window.ppuuViewer!.imagined?.steps ?? 0), 0);
    const before = await boxes();
    const start = await page.evaluate(() => ({ ...window.ppuuViewer!.imagination }));
    // A quarter of real time: the CPU backend imagines about one frame a second here.
    await page.evaluate(() => (window.ppuuViewer!.setSpeed(0.25), window.ppuuViewer!.play()));
    // Several imaginations, of different frames, arrive while the playhead moves on.
    const seen = new Set<number>();
    while (seen.size < 4) {
      await page.waitForFunction((n) => (window.ppuuViewer!.imagined?.steps ?? 0) > 0 && window.ppuuViewer!.imagination.answered > n, start.answered + seen.size);
      const s = await page.evaluate(() => ({ playing: window.ppuuViewer!.state().playing, im: window.ppuuViewer!.imagined!.index }));
      assert.ok(s.playing, 'still playing');
      seen.add(s.im);
    }
    const after = await page.evaluate(() => ({ counts: window.ppuuViewer!.imagination, index: window.ppuuViewer!.state().index, steps: window.ppuuViewer!.imagined!.steps }));
    assert.equal(after.counts.maxInFlight, 1);
    assert.equal(after.steps, 6);
    // The strip shows pictures (not the blank slots) and a caption naming the frame.
    const lit = await page.evaluate(() => {
      const c = document.querySelector('#imagined-strip canvas') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i]! + d[i + 1]! + d[i + 2]! > 60) n++;
      return n;
    });
    assert.ok(lit > 20, `lit pixels in the first imagined frame: ${lit}`);
    assert.match((await page.textContent('#imagined-caption'))!, /^imagined from frame \d+, 6 steps$/);
    await page.evaluate(() => window.ppuuViewer!.pause());
    await page.screenshot({ path: join(outputDir(), 'imagination-playing.png') });
    assert.deepEqual(await boxes(), before);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});
