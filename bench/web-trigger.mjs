// web-trigger.mjs — benchmark (not a test): Trigger → both charts drawn, on herd serve's page.
//
//   node bench/web-trigger.mjs http://127.0.0.1:PORT/       a running herd serve
//   node bench/web-trigger.mjs build/herd                    start `herd serve` on a free port
//   options: --scenario accept --n 1000 --runs 20 --warmup 3
//
// Each trigger alternates naive and mitigated (sim, N = 1,000 by default), so from the second
// run on both modes are drawn on both charts, as a user sees them. The figure is measured in
// the page: from the Trigger handler to uPlot's draw hook of the second chart (the page
// records it in window.herdPage.perf). The round trip seen from Node (click → page says done,
// including the DevTools protocol's own latency) is printed beside it. Each click waits until
// the previous run's tile animation has ended, as a person's next click would. Set RM=reduce
// to measure with prefers-reduced-motion (no animation). Goal: p95 ≤ 100 ms.
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', 'web', 'package.json'));
const { chromium } = require('playwright-core');

const opt = { scenario: 'accept', n: 1000, runs: 20, warmup: 3 };
let target = null;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a.startsWith('--')) {
    const k = a.slice(2);
    if (!(k in opt) || i + 1 >= argv.length) {
      console.error(`web-trigger: unknown or incomplete option ${a}`);
      process.exit(2);
    }
    opt[k] = k === 'scenario' ? argv[++i] : Number(argv[++i]);
  } else {
    target = a;
  }
}
if (!target) {
  console.error('usage: node bench/web-trigger.mjs URL|HERD [--scenario S] [--n N] [--runs R] [--warmup W]');
  process.exit(2);
}

function startServer(herd) {
  return new Promise((resolve, reject) => {
    const child = spawn(herd, ['serve', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    const timer = setTimeout(() => reject(new Error('herd serve printed no URL within 15 s')), 15000);
    const look = (buf) => {
      seen += buf.toString();
      const m = seen.match(/http:\/\/127\.0\.0\.1:\d+\/?/);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[0] });
      }
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`herd serve exited (${code}) before printing a URL`)));
  });
}

function pct(sorted, p) {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

async function main() {
  let server = null;
  let base = target;
  if (!/^https?:\/\//.test(target)) {
    server = await startServer(target);
    base = server.url;
  }
  const profile = mkdtempSync(join(tmpdir(), 'herd-bench-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    reducedMotion: process.env.RM || 'no-preference',
  });
  try {
    const page = await ctx.newPage();
    await page.goto(new URL('/', base).href);
    await page.waitForSelector('body[data-ready="1"]');
    await page.selectOption('#scenario', opt.scenario);
    await page.check('input[name=backend][value=sim]');
    await page.fill('#n', String(opt.n));

    const inPage = [];
    const roundTrip = [];
    for (let i = 0; i < opt.warmup + opt.runs; i++) {
      await page.check(`input[name=mode][value=${i % 2 ? 'mitigated' : 'naive'}]`);
      // As a user would: the previous run's flip animation has finished before the next click.
      await page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running'));
      const before = await page.evaluate(() => window.herdPage.perf.length);
      const t0 = performance.now();
      await page.click('#trigger');
      await page.waitForFunction((b) => window.herdPage.perf.length > b, before, { timeout: 60000 });
      const rt = performance.now() - t0;
      const ms = await page.evaluate(() => window.herdPage.perf[window.herdPage.perf.length - 1]);
      if (i >= opt.warmup) {
        inPage.push(ms);
        roundTrip.push(rt);
      }
    }
    const s1 = [...inPage].sort((a, b) => a - b);
    const s2 = [...roundTrip].sort((a, b) => a - b);
    const detail = (await page.evaluate(() => window.herdPage.perfDetail)).slice(opt.warmup);
    const sf = detail.map((d) => d.fetch).sort((a, b) => a - b);
    const sr = detail.map((d) => d.render).sort((a, b) => a - b);
    const f = (v) => v.toFixed(1);
    console.log(`web-trigger: ${opt.scenario} sim N=${opt.n}, ${opt.runs} triggers (+${opt.warmup} warm-up), ` +
                'alternating naive/mitigated, Chromium headless');
    console.log(`  Trigger -> charts drawn (in page): p50 ${f(pct(s1, 50))} ms  p95 ${f(pct(s1, 95))} ms  ` +
                `max ${f(s1[s1.length - 1])} ms`);
    console.log(`    of which the API answer:         p50 ${f(pct(sf, 50))} ms  p95 ${f(pct(sf, 95))} ms; ` +
                `drawing: p50 ${f(pct(sr, 50))} ms  p95 ${f(pct(sr, 95))} ms`);
    console.log(`  click -> done (seen from node):    p50 ${f(pct(s2, 50))} ms  p95 ${f(pct(s2, 95))} ms  ` +
                `max ${f(s2[s2.length - 1])} ms`);
    console.log(`  goal p95 <= 100 ms: ${pct(s1, 95) <= 100 ? 'met' : 'NOT met'}`);
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
    if (server) {
      server.child.removeAllListeners('exit');
      server.child.kill('SIGTERM');
    }
  }
}

main().catch((e) => {
  console.error(`web-trigger: ${e.message}`);
  process.exit(1);
});
