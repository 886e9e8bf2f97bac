// e2e.mjs — the page of `herd serve`, driven end to end in Debian's Chromium (issue 5).
//
//   node tests/web/e2e.mjs http://127.0.0.1:PORT/      (tests/web/run-e2e.sh starts the server)
//
// For accept, condvar, cache and cron on sim: trigger naive, then mitigated, from the page;
// the counters and the grid must equal the report the API gives for the same URL (fetched
// here, independently of the page), both p99 bars must show, and reloading the URL, Back and
// Forward must reproduce the runs. Then one live run (condvar, N = 100), the keyboard path,
// reduced motion, and a refused setting. Prints TAP; screenshots go to tests/web/artifacts/.
//
// Never downloads a browser: playwright-core drives /usr/bin/chromium (override: CHROMIUM).
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', '..', 'web', 'package.json'));
const { chromium } = require('playwright-core');

const BASE = process.argv[2];
if (!BASE) {
  console.error('usage: node tests/web/e2e.mjs URL');
  process.exit(2);
}
const ARTIFACTS = join(here, 'artifacts');
const SCENARIOS = ['accept', 'condvar', 'cache', 'cron'];
const SIM_N = 1000;
const LIVE = { scenario: 'condvar', n: 100, events: 20 };
const WAIT = 60_000;

/* ------------------------------------------------------------------------------ TAP -- */
let count = 0;
let failed = 0;
function ok(cond, name, diag) {
  count += 1;
  if (!cond) failed += 1;
  console.log(`${cond ? 'ok' : 'not ok'} ${count} - ${name}`);
  if (!cond && diag !== undefined) {
    for (const line of String(typeof diag === 'string' ? diag : JSON.stringify(diag)).split('\n')) {
      console.log(`  # ${line}`);
    }
  }
  return cond;
}
const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const okEq = (got, want, name) => ok(eq(got, want), name, `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);

/* ------------------------------------------------------------------------------ API -- */
let catalogue;
async function api(path, init) {
  const res = await fetch(new URL(path, BASE), init);
  const body = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${body.error || ''}`);
  return body;
}

// The body POST /api/run takes, built from a page URL by this test itself (not by the page).
function bodyFromUrl(href) {
  const q = new URL(href).searchParams;
  const sc = catalogue.scenarios.find((s) => s.name === q.get('scenario'));
  const body = { scenario: sc.name, backend: q.get('backend'), mode: q.get('mode'),
                 n: Number(q.get('n')), events: Number(q.get('events')), seed: Number(q.get('seed')),
                 params: {} };
  if (body.mode === 'mitigated') body.mitigation = q.get('mitigation');
  for (const p of sc.params) {
    if (q.has(`p.${p.key}`)) {
      const v = q.get(`p.${p.key}`);
      body.params[p.key] = p.type === 'enum' ? v : Number(v);
    }
  }
  return body;
}

async function reportFor(href) {
  const d = await api('/api/run', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                    body: JSON.stringify(bodyFromUrl(href)) });
  return d.runs[0];
}

/* ----------------------------------------------------------------------------- page -- */
async function readPage(page) {
  return page.evaluate(() => {
    const v = (id) => Number(document.getElementById(id).dataset.value);
    const bar = (id) => {
      const row = document.getElementById(id);
      return { ns: row.dataset.ns === '' ? null : Number(row.dataset.ns),
               width: row.querySelector('.bar-fill').getBoundingClientRect().width };
    };
    return {
      runs: Number(document.body.dataset.runs || 0),
      counters: { wakes: v('c-wakes'), useful: v('c-useful'), wasted: v('c-wasted'), origin_load: v('c-origin') },
      tiles: [...document.querySelectorAll('#grid .tile')].map((t) => t.dataset.state),
      flipping: document.querySelectorAll('#grid .tile.flip').length,
      label: document.getElementById('grid-count').textContent,
      bars: { naive: bar('p99-naive'), mitigated: bar('p99-mitigated') },
      timelineModes: document.getElementById('timeline').dataset.modes,
      latencySeries: Number(document.getElementById('latency').dataset.series),
      status: document.getElementById('status').textContent,
      statusError: document.getElementById('status').classList.contains('error'),
      url: location.href,
      last: window.herdPage.last && window.herdPage.last.report,
    };
  });
}

// Wait until the page has finished one more run than @before (and its charts are drawn).
async function waitRun(page, before) {
  await page.waitForFunction((b) => Number(document.body.dataset.runs || 0) > b &&
    !window.herdPage.pending, before, { timeout: WAIT });
  return readPage(page);
}

async function trigger(page, how = 'click') {
  const before = Number(await page.evaluate(() => document.body.dataset.runs || 0));
  if (how === 'click') await page.click('#trigger');
  else await page.keyboard.press('Enter');
  return waitRun(page, before);
}

async function freshPage(ctx, path = '/', reducedMotion = 'reduce') {
  const page = await ctx.newPage();
  await page.emulateMedia({ reducedMotion });
  page.on('pageerror', (e) => ok(false, `no script error on the page (${e.message})`));
  await page.goto(new URL(path, BASE).href);
  await page.waitForSelector('body[data-ready="1"]', { timeout: WAIT });
  return page;
}

const fmt = (n) => n.toLocaleString('en-US');

// The page's counters and grid against the API's report for the page's own URL.
async function checkAgainstApi(name, seen) {
  const r = await reportFor(seen.url);
  okEq(seen.counters, { wakes: r.wakes, useful: r.useful, wasted: r.wasted, origin_load: r.origin_load },
       `${name}: counters equal the API's report for the same URL`);
  const shown = Math.min(240, r.n);
  ok(seen.tiles.length === shown, `${name}: the grid has ${shown} tiles`, `got ${seen.tiles.length}`);
  okEq(seen.tiles, r.waiters, `${name}: every tile is in the report's state`);
  ok(seen.label.includes(`showing ${fmt(shown)} of ${fmt(r.n)}`), `${name}: the label says "showing ${shown} of ${fmt(r.n)}"`,
     seen.label);
  return r;
}

async function scenarioRound(ctx, name) {
  const page = await freshPage(ctx);
  await page.selectOption('#scenario', name);
  await page.fill('#n', String(SIM_N));
  await page.check('input[name=backend][value=sim]');

  await page.check('input[name=mode][value=naive]');
  const naive = await trigger(page);
  ok(!naive.statusError, `${name}: naive run succeeded`, naive.status);
  const rn = await checkAgainstApi(`${name} naive`, naive);
  ok(rn.mode === 'naive' && new URL(naive.url).searchParams.get('mode') === 'naive',
     `${name}: the URL holds the naive settings`, naive.url);

  await page.check('input[name=mode][value=mitigated]');
  const mit = await trigger(page);
  ok(!mit.statusError, `${name}: mitigated run succeeded`, mit.status);
  const rm = await checkAgainstApi(`${name} mitigated`, mit);

  ok(mit.bars.naive.ns === rn.latency_ns.p99 && mit.bars.mitigated.ns === rm.latency_ns.p99,
     `${name}: the p99 bars show naive and mitigated`, mit.bars);
  ok(mit.bars.naive.width > 0 && (mit.bars.mitigated.width > 0 || rm.latency_ns.p99 === 0),
     `${name}: both bars are drawn`, mit.bars);
  ok(mit.timelineModes === 'naive,mitigated', `${name}: the timeline draws both modes on one chart`,
     mit.timelineModes);
  ok(mit.latencySeries === 2, `${name}: the latency chart draws both modes`, mit.latencySeries);
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  // A link reproduces the run: reload the URL, same counters and grid.
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]', { timeout: WAIT });
  const again = await waitRun(page, 0);
  okEq({ c: again.counters, t: again.tiles, u: again.url }, { c: mit.counters, t: mit.tiles, u: mit.url },
       `${name}: reloading the URL reproduces the run`);

  // Back goes to the naive run and re-runs it; Forward comes back.
  const b0 = again.runs;
  await page.goBack();
  const back = await waitRun(page, b0);
  okEq({ c: back.counters, mode: back.last.mode }, { c: naive.counters, mode: 'naive' },
       `${name}: Back restores and re-runs the naive settings`);
  await page.goForward();
  const fwd = await waitRun(page, back.runs);
  okEq({ c: fwd.counters, mode: fwd.last.mode }, { c: mit.counters, mode: 'mitigated' },
       `${name}: Forward restores the mitigated run`);
  await page.close();
}

async function liveRound(ctx) {
  const sc = catalogue.scenarios.find((s) => s.name === LIVE.scenario);
  if (!sc.backends.includes('live') || !(sc.live_max_n >= LIVE.n)) {
    console.log(`ok ${++count} - live run # SKIP no live ${LIVE.scenario} backend for N = ${LIVE.n} here`);
    return;
  }
  const page = await freshPage(ctx);
  await page.selectOption('#scenario', LIVE.scenario);
  await page.check('input[name=backend][value=live]');
  await page.fill('#n', String(LIVE.n));
  await page.click('#more summary');
  await page.fill('#events', String(LIVE.events));
  await page.check('input[name=mode][value=naive]');
  const seen = await trigger(page);
  const r = seen.last;
  ok(!seen.statusError && r && r.backend === 'live', `live ${LIVE.scenario}: a live run from the page works`,
     seen.status);
  if (r) {
    okEq(seen.counters, { wakes: r.wakes, useful: r.useful, wasted: r.wasted, origin_load: r.origin_load },
         'live: the counters show the live report');
    ok(r.n === LIVE.n && r.events === LIVE.events && r.useful >= 1 && r.wakes >= r.useful,
       'live: the report is the run asked for (n, events) and sane', r);
    okEq(seen.tiles, r.waiters, 'live: the grid shows the live report\'s waiters');
  }
  await page.screenshot({ path: join(ARTIFACTS, 'live-condvar.png'), fullPage: true });
  await page.close();
}

async function keyboardRound(ctx) {
  const page = await freshPage(ctx);
  await page.selectOption('#scenario', 'accept');
  await page.focus('#n');
  await page.fill('#n', '300');
  const seen = await trigger(page, 'enter');
  ok(seen.tiles.length === 240 && seen.last && seen.last.n === 300, 'keyboard: Enter in N triggers a run', seen.status);
  // Focus styles: Tab reaches the Trigger button and it shows an outline.
  await page.focus('#trigger');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  ok(outline !== 'none', 'keyboard: the focused button has a visible focus style', outline);
  await page.close();
}

async function reducedMotionRound(ctx) {
  const page = await freshPage(ctx, '/', 'reduce');
  await page.selectOption('#scenario', 'condvar');
  await page.fill('#n', '500');
  const seen = await trigger(page);
  ok(seen.tiles.length === 240 && seen.flipping === 0, 'reduced motion: the grid does not flip', seen.flipping);
  await page.close();
  const page2 = await freshPage(ctx, '/', 'no-preference');
  await page2.fill('#n', '500');
  const seen2 = await trigger(page2);
  ok(seen2.flipping > 0, 'motion allowed: the grid flips', seen2.flipping);
  await page2.close();
}

async function refusalRound(ctx) {
  const page = await freshPage(ctx);
  await page.selectOption('#scenario', 'accept');
  await page.fill('#n', '0');
  await page.click('#trigger');
  await page.waitForFunction(() => document.getElementById('status').classList.contains('error'));
  const s = await readPage(page);
  ok(s.statusError && /N must be/.test(s.status) && s.runs === 0, 'an out-of-range N is refused with a reason',
     s.status);
  // The server's own refusal (settle_ms below its minimum) reaches the page as one line.
  const page2 = await freshPage(ctx, '/?scenario=accept&backend=sim&mode=naive&n=10&events=1&seed=1&p.settle_ms=0');
  await page2.waitForFunction(() => document.getElementById('status').classList.contains('error'),
    null, { timeout: WAIT });
  const s2 = await readPage(page2);
  ok(/settle_ms/.test(s2.status), 'a setting the server refuses shows its reason', s2.status);
  await page.close();
  await page2.close();
}

/* ----------------------------------------------------------------------------- main -- */
async function main() {
  console.log('TAP version 13');
  mkdirSync(ARTIFACTS, { recursive: true });
  catalogue = await api('/api/scenarios');
  ok(SCENARIOS.every((n) => catalogue.scenarios.some((s) => s.name === n)),
     'GET /api/scenarios lists accept, condvar, cache, cron');

  const profile = mkdtempSync(join(tmpdir(), 'herd-e2e-'));
  // A persistent context is how playwright takes a user-data-dir: a fresh one, removed after.
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  try {
    for (const name of SCENARIOS) {
      try {
        await scenarioRound(ctx, name);
      } catch (e) {
        ok(false, `${name}: round finished`, e.stack || String(e));
      }
    }
    for (const [label, fn] of [['live', () => liveRound(ctx)], ['keyboard', () => keyboardRound(ctx)],
                               ['reduced motion', () => reducedMotionRound(ctx)],
                               ['refusals', () => refusalRound(ctx)]]) {
      try {
        await fn();
      } catch (e) {
        ok(false, `${label}: round finished`, e.stack || String(e));
      }
    }
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
  console.log(`1..${count}`);
  return failed === 0 ? 0 : 1;
}

main().then((rc) => process.exit(rc), (e) => {
  console.log(`not ok ${count + 1} - e2e ran to the end`);
  console.log(`  # ${String(e.stack || e).split('\n').join('\n  # ')}`);
  console.log(`1..${count + 1}`);
  process.exit(1);
});
