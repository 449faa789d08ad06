#!/usr/bin/env node
// Browser tests of the live port map, as a person would use it: Debian's
// Chromium (headless) driven by playwright-core against a running
// `porttrack serve` / `porttrack demo` (or web/dev/mock-server.mjs).
//
//   PORTTRACK_MAP_URL=http://127.0.0.1:8080/ node tests/map.mjs
//
// Env: PORTTRACK_MAP_URL (required), PORTTRACK_SCREENSHOT_DIR (default
// ./screenshots), CHROMIUM (default /usr/bin/chromium),
// PORTTRACK_CONGESTION_TIMEOUT_S (default 120: how long to wait for a
// congestion event to change a zone), PORTTRACK_PERF=1 (also measure first
// render and panning frame rate with ?synthetic=10000, median of 3),
// PORTTRACK_CHROMIUM_ARGS (extra Chromium flags, space-separated).
// Exit code 0 when every check passed; the last line is "N passed, N failed".
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const require = createRequire(import.meta.url);
const BASE_RAW = process.env.PORTTRACK_MAP_URL;
if (!BASE_RAW) {
  console.error('PORTTRACK_MAP_URL is not set: point it at a running `porttrack serve` or `demo` (e.g. http://127.0.0.1:8080/)');
  process.exit(2);
}
const BASE = BASE_RAW.endsWith('/') ? BASE_RAW : `${BASE_RAW}/`;
const SHOTS = resolve(process.env.PORTTRACK_SCREENSHOT_DIR ?? 'screenshots');
const CONGESTION_TIMEOUT_MS = 1000 * Number(process.env.PORTTRACK_CONGESTION_TIMEOUT_S ?? 120);
const PERF = process.env.PORTTRACK_PERF === '1';
mkdirSync(SHOTS, { recursive: true });

let passed = 0;
let failed = 0;
async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e?.message ?? e}`);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
async function waitFor(fn, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last?.ok) return last;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last?.why ? `: ${last.why}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
async function apiJson(path) {
  const res = await fetch(new URL(path, BASE));
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // Root in CI has no user namespace sandbox.
  args: ['--no-sandbox', '--disable-dev-shm-usage', ...(process.env.PORTTRACK_CHROMIUM_ARGS ?? '').split(' ').filter(Boolean)],
});

try {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // An EventSource closed by navigation/teardown is not an error of the page.
    if (!r.url().includes('/api/v1/stream')) consoleErrors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) consoleErrors.push(`HTTP ${r.status()} ${r.url()}`);
  });

  await check('page loads and draws vessels', async () => {
    const res = await page.goto(BASE, { waitUntil: 'load' });
    assert(res && res.ok(), `GET ${BASE} answered ${res?.status()}`);
    await page.waitForSelector('#map[data-vessel-count]:not([data-vessel-count="0"])', { timeout: 20_000 });
    const title = await page.textContent('#port-name');
    assert(title && title.trim().length > 0, 'header has no port name');
  });

  if (failed > 0) {
    // Nothing else can pass on a page that did not load; say so once.
    throw new Error(`the map did not load from ${BASE}; is the server running there?`);
  }

  await check('stream is live', async () => {
    await waitFor(
      async () => {
        const s = await page.getAttribute('#map', 'data-stream-state');
        return { ok: s === 'live', why: `data-stream-state=${s}` };
      },
      20_000,
      'the stream to be live',
    );
  });

  await check('vessel markers equal the API total', async () => {
    // The fleet changes while we look (the simulator is running): compare a
    // fresh total with the drawn count until they agree within the settle time.
    await waitFor(
      async () => {
        const body = await apiJson('api/v1/vessels?limit=1');
        const drawn = Number(await page.getAttribute('#map', 'data-vessel-count'));
        return { ok: drawn === body.total, why: `drawn ${drawn}, API total ${body.total}` };
      },
      20_000,
      'data-vessel-count to equal /api/v1/vessels total',
    );
  });

  await page.waitForTimeout(500);
  await page.screenshot({ path: join(SHOTS, 'overview.png') });

  await check('clicking a vessel opens its details', async () => {
    // Pick a vessel that is in view, alone within 16 px (so the click is
    // unambiguous) and not under a panel, then click its pixel for real.
    const target = await page.evaluate(() => {
      const pt = window.__porttrack;
      const pts = pt
        .mmsis()
        .map((m) => ({ m, p: pt.vesselScreenPoint(m) }))
        .filter((e) => e.p && e.p.inView);
      const map = document.getElementById('map');
      // Prefer a vessel in a port call: its details have the most to show.
      pts.sort((a, b) => Number(!!pt.vessel(b.m).properties.port_call) - Number(!!pt.vessel(a.m).properties.port_call));
      for (const e of pts) {
        const { x, y } = e.p;
        const el = document.elementFromPoint(x, y);
        if (!el || !map.contains(el) || el.closest('.leaflet-tooltip, .leaflet-control, .legend, .details')) continue;
        if (x < 80 || y < 80) continue;
        const crowded = pts.some((o) => o !== e && Math.hypot(o.p.x - x, o.p.y - y) < 16);
        if (!crowded) return { mmsi: e.m, x, y, name: pt.vessel(e.m).properties.name };
      }
      return null;
    });
    assert(target, 'no isolated vessel in view to click');
    await page.mouse.click(target.x, target.y);
    const panel = page.locator('[data-testid="vessel-details"]');
    await panel.waitFor({ state: 'visible', timeout: 5_000 });
    await page.waitForSelector(`[data-testid="vessel-details"][data-mmsi="${target.mmsi}"][data-loaded="true"]`, { timeout: 10_000 });
    const text = await panel.innerText();
    assert(text.includes(String(target.mmsi)), `details panel does not show MMSI ${target.mmsi}`);
    if (target.name) assert(text.includes(target.name), `details panel does not show the name ${target.name}`);
    const details = await apiJson(`api/v1/vessels/${target.mmsi}`);
    if (details.track.length > 1) {
      const paths = await page.locator('.leaflet-track-pane path').count();
      assert(paths > 0, 'the vessel has a track but none is drawn');
    }
    await page.screenshot({ path: join(SHOTS, 'vessel-details.png') });
    // The test hook selects the same way (used by keyboard rows too).
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden', timeout: 2_000 });
  });

  await check('a congestion change reaches the page through the stream', async () => {
    const before = await page.evaluate(() => ({
      count: window.__porttrack.stats.counts.congestion,
      zones: Object.fromEntries(window.__porttrack.zones().map((z) => [z.name, `${z.level}|${z.text}`])),
    }));
    await waitFor(
      async () => {
        const s = await page.evaluate(() => {
          const pt = window.__porttrack;
          const ev = pt.stats.lastCongestion;
          return { count: pt.stats.counts.congestion, ev, rendered: ev ? pt.zone(ev.zone) : null };
        });
        if (s.count <= before.count || !s.ev) return { ok: false, why: 'no congestion event yet' };
        const r = s.rendered;
        if (!r) return { ok: false, why: `event for ${s.ev.zone}, which has no label (port limits?)` };
        const level = s.ev.congestion?.level ?? 'none';
        const changed = before.zones[s.ev.zone] !== `${r.level}|${r.text}`;
        return { ok: r.level === level && changed, why: `zone ${s.ev.zone}: event level ${level}, rendered ${r.level}, changed ${changed}` };
      },
      CONGESTION_TIMEOUT_MS,
      'a congestion event to change a zone on the map',
    );
  });

  await check('safety messages are listed and the located ones drawn on the map', async () => {
    const expected = (await apiJson('api/v1/overview')).safety_messages ?? [];
    const located = expected.filter((m) => typeof m.lat === 'number' && typeof m.lon === 'number').length;
    await waitFor(
      async () => {
        const s = await page.evaluate(() => ({
          text: document.getElementById('safety')?.innerText ?? '',
          markers: Number(document.getElementById('map')?.dataset.safetyCount ?? 0),
        }));
        const missing = expected.filter((m) => !s.text.includes(m.text)).map((m) => m.text);
        if (!expected.length && !s.text.includes('No safety messages')) return { ok: false, why: 'no empty-state text' };
        return { ok: missing.length === 0 && s.markers >= located, why: `missing ${missing.join(', ')}; ${s.markers} of ${located} markers` };
      },
      5_000,
      'the overview safety messages in the panel and on the map',
    );
    await page.locator('#safety').screenshot({ path: join(SHOTS, 'safety-panel.png') });
  });

  await check('axe-core: no serious or critical accessibility violations', async () => {
    await page.addScriptTag({ content: readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8') });
    const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    for (const v of result.violations) {
      console.log(`     axe ${v.impact}: ${v.id} (${v.nodes.length} nodes) ${v.help}`);
    }
    assert(
      bad.length === 0,
      bad.map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`).join('; '),
    );
  });

  await check('1920×1080 renders the same page', async () => {
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.waitForTimeout(800);
    const drawn = Number(await page.getAttribute('#map', 'data-vessel-count'));
    assert(drawn > 0, 'no vessels drawn after resize');
    await page.screenshot({ path: join(SHOTS, 'overview-1920.png') });
  });

  await check('no console errors', async () => {
    assert(consoleErrors.length === 0, consoleErrors.slice(0, 5).join(' | '));
  });
  await context.close();

  if (PERF) await perf(browser);
} catch (e) {
  failed++;
  console.log(`FAIL ${e?.message ?? e}`);
} finally {
  await browser.close();
}

async function perf(browser) {
  const firsts = [];
  const fpss = [];
  const draws = [];
  const drags = [];
  for (let run = 0; run < 3; run++) {
    const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, deviceScaleFactor: 1 });
    const page = await ctx.newPage();
    await page.goto(`${BASE}?synthetic=10000`, { waitUntil: 'load' });
    await page.waitForFunction(() => window.__porttrack?.firstRenderMs !== null, null, { timeout: 30_000 });
    const r = await page.evaluate(async () => {
      const pt = window.__porttrack;
      const mark = performance.getEntriesByName('porttrack-first-vessels-drawn')[0];
      const map = pt.map;
      const inView = pt.mmsis().filter((m) => pt.vesselScreenPoint(m).inView).length;
      // A scripted pan: 8 animated pans of 400 px, each ending in a redraw
      // of every vessel, while counting animation frames.
      let frames = 0;
      let counting = true;
      const tick = () => {
        frames++;
        if (counting) requestAnimationFrame(tick);
      };
      const drawsBefore = pt.drawTimes.length;
      const t0 = performance.now();
      requestAnimationFrame(tick);
      for (let i = 0; i < 8; i++) {
        await new Promise((res) => {
          map.once('moveend', res);
          map.panBy([i % 2 ? -400 : 400, i % 4 < 2 ? 150 : -150], { animate: true, duration: 0.5 });
        });
        await new Promise((res) => requestAnimationFrame(() => res()));
      }
      counting = false;
      const secs = (performance.now() - t0) / 1000;
      const d = pt.drawTimes.slice(drawsBefore);
      return { first: mark.startTime, fps: frames / secs, inView, drawMs: d.sort((a, b) => a - b)[Math.floor(d.length / 2)] };
    });
    // A real mouse drag too, to be sure dragging is as smooth as panBy.
    const drag = await page.evaluate(() => {
      window.__dragFrames = 0;
      window.__dragOn = true;
      const t = () => {
        window.__dragFrames++;
        if (window.__dragOn) requestAnimationFrame(t);
      };
      requestAnimationFrame(t);
      return performance.now();
    });
    await page.mouse.move(900, 500);
    await page.mouse.down();
    for (let i = 0; i < 60; i++) await page.mouse.move(900 + Math.sin(i / 10) * 300, 500 + i * 2, { steps: 1 });
    await page.mouse.up();
    const dragFps = await page.evaluate((t0) => {
      window.__dragOn = false;
      return window.__dragFrames / ((performance.now() - t0) / 1000);
    }, drag);
    console.log(
      `perf run ${run + 1}: first render ${r.first.toFixed(0)} ms, ${r.inView} vessels in view, pan ${r.fps.toFixed(1)} fps, drag ${dragFps.toFixed(1)} fps, full redraw median ${r.drawMs?.toFixed(1)} ms`,
    );
    firsts.push(r.first);
    fpss.push(r.fps);
    draws.push(r.drawMs ?? NaN);
    drags.push(dragFps);
    await ctx.close();
  }
  const med = (a) => [...a].sort((x, y) => x - y)[1];
  console.log(
    `perf (median of 3, 10000 synthetic vessels, 1920×1080, headless Chromium): time to first render ${med(firsts).toFixed(0)} ms, animated pans with redraws ${med(fpss).toFixed(1)} fps, mouse drag ${med(drags).toFixed(1)} fps, full redraw of the view ${med(draws).toFixed(1)} ms`,
  );
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
