/* fleet.js — a scenario file's view on herd serve's page (DESIGN §8), one ES module.
 *
 * Draws the file's topology (components as boxes by kind: clients, service, cache, load
 * balancer, coordination service; calls as arrows with timeout × attempts, a coordination
 * service's calls with what they ask for, lock or leader), its faults on the time axis (a
 * window for a fault that lasts, a mark for an instant: drop, flush, leader_death), and after
 * a run the recovery verdicts, the per-component figures (every component's, then each load
 * balancer's and coordination service's own) and one timeline chart per component, naive and
 * mitigated side by side on one time axis with the fault windows shaded.
 *
 * No model logic: everything drawn is the catalogue's (or POST /api/validate's) topology and
 * the reports' `fleet` objects (docs/glossary.md, "Fleet figures"). app.js owns the page
 * (form, runs, URL) and hands this module its helpers and, per run, the reports.
 *
 * Cost: a run rebuilds the tables (a few dozen rows) and one uPlot per component; a series
 * change or a resize rebuilds the charts only.
 *
 * Test hooks: body[data-fleet-runs] counts rendered runs; table cells carry data-key (the
 * report's field) and data-value (its raw figure); chart boxes data-component.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  e.append(...children);
  return e;
}
const svgTitle = (text) => svg('title', {}, text);

/* Faults that happen at one moment: drawn as a mark, not a window. leader_death's `for` is
 * how long the dead member stays down, not how long the service is without a leader. */
const INSTANT = new Set(['drop', 'flush', 'leader_death']);
const isInstant = (f) => INSTANT.has(f.kind) || !(f.for_ns > 0);

/* Each component's column: sources (client fleets) first, a callee right of every caller
 * (the file's call graph has no cycles, so this ends). */
function layers(topo) {
  const n = topo.components.length;
  const depth = new Array(n).fill(0);
  for (let pass = 0; pass < n; pass++) {
    for (const c of topo.calls) depth[c.to] = Math.max(depth[c.to], depth[c.from] + 1);
  }
  return depth;
}

/* The series of the per-component charts: every component has the first seven; a kind's own
 * are offered when the file has one of that kind, and charted for those components. */
const KIND_SERIES = [
  { key: 'handshakes', label: 'handshakes', kind: 'lb' },
  { key: 'connections', label: 'connections', kind: 'lb' },
  { key: 'watch_events', label: 'watch events', kind: 'coord' },
  { key: 'coord_requests', label: 'coord requests', kind: 'coord' },
];

/* The figures of a kind's own table: [report field, column label, format name, tooltip]. */
const KIND_TABLES = {
  lb: {
    title: 'Load balancers',
    columns: [
      ['handshakes', 'handshakes', 'int', 'TLS handshakes let through (resumed ones included)'],
      ['resumed', 'resumed', 'int', 'of them resumed sessions (the cheap kind)'],
      ['handshakes_refused', 'refused', 'int', 'handshakes refused by its handshake rate limit'],
      ['reconnects', 'reconnects', 'int', 'clients\' attempts to open a connection again'],
      ['conns_dropped', 'dropped', 'int', 'connections closed by a drop fault (a restart) or a crash'],
      ['conns_peak', 'peak conns', 'int', 'the most connections open at once'],
      ['handshakes_peak_per_s', 'peak handshakes/s', 'num', 'the most handshakes in one bucket, per second'],
      ['backend_handshake_share', 'backend on handshakes', 'pct',
        'share of the backend\'s worker time spent on handshakes (handshake_ns / busy_ns)'],
    ],
  },
  coord: {
    title: 'Coordination services',
    columns: [
      ['coord_requests', 'requests', 'int', 'requests it served: lock tries, releases, leader requests, votes'],
      ['watch_events', 'watch events', 'int', 'watch events delivered'],
      ['wakeups', 'wake-ups', 'int', 'waiters woken by a watch event or a poll'],
      ['wasted_wakeups', 'wasted wake-ups', 'int', 'woken and did not get the lock: the lock herd'],
      ['lock_grants', 'lock grants', 'int', 'locks granted'],
      ['lock_p99_ns', 'lock p99', 'ns', 'p99 of the time from a lock request to its grant'],
      ['elections', 'elections', 'int', 'elections won'],
      ['election_rounds', 'rounds', 'int', 'election rounds'],
      ['split_votes', 'split votes', 'int', 'rounds that elected no one'],
      ['leader_ns', 'new leader after', 'leader', 'from the leader\'s death to a new leader (the last); none: no new leader'],
      ['no_leader_ns', 'without a leader', 'ns', 'time without a leader in all'],
    ],
  },
};

const FLEET_COLUMNS = [
  ['calls', 'calls', 'int'], ['attempts', 'attempts', 'int'], ['amplification', 'amplification', 'times'],
  ['ok', 'ok', 'int'], ['errors', 'errors', 'int'], ['timeouts', 'timeouts', 'int'], ['wasted', 'wasted', 'int'],
  ['p99_ns', 'p99', 'ns'], ['peak_queue', 'peak queue', 'int'],
];

/**
 * The view, bound to the page's helpers (@env, borrowed for the page's life):
 * $, h, fmtNs, fmtInt, fmtNum, fmtPct, plural, modeOf, runLabel, modeSeries (a run's line in
 * its mode's look), render (the herd's §1 view of one report), setStatus, isFile, page (the
 * page's state: fleetRuns is counted there).
 */
export function fleetView(env) {
  const { $, h, fmtNs, fmtInt, fmtNum, fmtPct, plural, modeOf, runLabel, modeSeries, render, setStatus, isFile, page } = env;
  let shown = null;   /* {reports, settings} of the last run drawn */
  let charts = [];    /* its uPlots */

  const fmtTimeout = (ns) => (ns > 0 ? fmtNs(ns) : 'no timeout');
  const FMT = {
    int: fmtInt, num: fmtNum, ns: fmtNs, pct: (v) => (v == null ? '—' : fmtPct(v)),
    times: (v) => `${fmtNum(v)}×`, leader: (v) => (v == null ? '—' : v < 0 ? 'none' : fmtNs(v)),
  };

  /* What a call asks besides timeout × attempts: a coordination service's op, or the TLS
   * handshake each new connection to an lb costs its backend ("+ TLS 2.00 ms" on the lb's
   * arrow: requests, plus that). '' for a plain call. */
  function callOp(topo, c) {
    if (c.op === 'lock') return c.hold_ns > 0 ? `lock, held ${fmtNs(c.hold_ns)}` : 'lock';
    if (c.op === 'leader') return 'leader requests';
    const from = topo.components[c.from];
    if (from && from.kind === 'lb' && from.handshake_ns > 0) {
      return `+ TLS ${fmtNs(from.handshake_ns)}${from.resumption ? ', resumable' : ''}`;
    }
    return c.op || '';
  }

  /* The second line of a box: its kind, and for an lb or a coord what sets its look. */
  function kindLine(topo, c, i) {
    if (c.kind === 'lb') return c.handshake_ns > 0 ? `lb · TLS ${fmtNs(c.handshake_ns)}` : 'lb';
    if (c.kind === 'coord') {
      const ops = new Set(topo.calls.filter((k) => k.to === i).map((k) => k.op));
      const bits = [];
      if (ops.has('lock')) bits.push(c.lock);
      if (ops.has('leader') || c.candidates > 0) bits.push(`${c.candidates} members`);
      return ['coord', ...bits].join(' · ');
    }
    return c.kind;
  }

  /* The box's outline: clients round, a cache square-cornered, an lb a hexagon (traffic in,
   * fanned out), a coord a double outline; the rest rounded rectangles. */
  function nodeShape(c, x, y, w, hgt) {
    if (c.kind === 'lb') {
      const k = 14;
      return [svg('path', { class: 'shape', d: `M${x + k},${y} L${x + w - k},${y} L${x + w},${y + hgt / 2} ` +
        `L${x + w - k},${y + hgt} L${x + k},${y + hgt} L${x},${y + hgt / 2} z` })];
    }
    const rx = c.kind === 'clients' ? 22 : c.kind === 'cache' ? 2 : 8;
    const outer = svg('rect', { class: 'shape', x, y, width: w, height: hgt, rx });
    if (c.kind !== 'coord') return [outer];
    return [outer, svg('rect', { class: 'inner', x: x + 4, y: y + 4, width: w - 8, height: hgt - 8, rx: rx - 3 })];
  }

  function drawTopology(topo) {
    const BW = 140, BH = 50, GX = 110, GY = 30, PAD = 12;
    const depth = layers(topo);
    const rows = {};
    const pos = topo.components.map((c, i) => {
      const d = depth[i];
      const row = (rows[d] = (rows[d] || 0) + 1) - 1;
      return { x: PAD + d * (BW + GX), y: PAD + row * (BH + GY) };
    });
    const cols = Math.max(...depth) + 1;
    const nrows = Math.max(...Object.values(rows));
    const W = PAD * 2 + cols * BW + (cols - 1) * GX;
    const H = PAD * 2 + nrows * BH + (nrows - 1) * GY + 14;
    const faulted = {};
    for (const f of topo.faults) (faulted[f.target] = faulted[f.target] || []).push(f.kind);
    const defs = svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '10', refY: '5',
      markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' }, svg('path', { d: 'M0,0 L10,5 L0,10 z' })));
    const edges = topo.calls.map((c) => {
      const a = pos[c.from], b = pos[c.to];
      const x1 = a.x + BW, y1 = a.y + BH / 2, x2 = b.x, y2 = b.y + BH / 2;
      const label = `${fmtTimeout(c.timeout_ns)} × ${c.max_attempts}`;
      const op = callOp(topo, c);
      const mx = (x1 + x2) / 2, my = (y1 + y2) / 2;
      const fromKind = topo.components[c.from].kind;
      return svg('g', { class: `edge${c.op ? ` op-${c.op}` : ''}${fromKind === 'lb' ? ' from-lb' : ''}`,
        'data-from': c.from_name, 'data-to': c.to_name, 'data-op': op },
      svgTitle(`${c.from_name} calls ${c.to_name}${op ? ` (${op})` : ''}: timeout ${fmtTimeout(c.timeout_ns)} ` +
               `per attempt, ${plural(c.max_attempts, 'attempt')} at most`),
      svg('path', { class: 'edge-line', d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, 'marker-end': 'url(#arrow)' }),
      svg('text', { class: 'edge-label', x: mx, y: my - 5, 'text-anchor': 'middle' }, label),
      ...(op ? [svg('text', { class: 'edge-op', x: mx, y: my + 13, 'text-anchor': 'middle' }, op)] : []));
    });
    const nodes = topo.components.map((c, i) => {
      const p = pos[i];
      const herd = i === topo.herd;
      const second = faulted[i] ? `⚡ ${faulted[i].join(', ')}` : kindLine(topo, c, i);
      return svg('g', { class: `node kind-${c.kind}${herd ? ' herd' : ''}${faulted[i] ? ' faulted' : ''}`, 'data-name': c.name,
        'data-kind': c.kind },
      svgTitle(`${c.name}: ${kindLine(topo, c, i)}${herd ? ' (the herd\'s resource)' : ''}` +
               (faulted[i] ? `; faults: ${faulted[i].join(', ')}` : '')),
      ...nodeShape(c, p.x, p.y, BW, BH),
      svg('text', { class: 'node-name', x: p.x + BW / 2, y: p.y + 21, 'text-anchor': 'middle' }, c.name),
      svg('text', { class: 'node-kind', x: p.x + BW / 2, y: p.y + 38, 'text-anchor': 'middle' }, second));
    });
    const el = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'topology-svg' }, defs, ...edges, ...nodes);
    $('topology').replaceChildren(el);
    $('topology').setAttribute('aria-label', `topology: ${topo.components.map((c, i) => `${c.name} (${kindLine(topo, c, i)})`).join(', ')}; ` +
      `calls: ${topo.calls.map((c) => { const op = callOp(topo, c); return `${c.from_name} → ${c.to_name}${op ? ` (${op})` : ''}, ` +
        `${fmtTimeout(c.timeout_ns)} × ${c.max_attempts}`; }).join('; ')}`);
  }

  /* One fault in words, as its title and the drawing's label say it. */
  function faultText(f) {
    if (f.kind === 'leader_death') {
      return `leader_death on ${f.target_name} at ${fmtNs(f.at_ns)}` +
        (f.for_ns > 0 ? `, the dead member down for ${fmtNs(f.for_ns)}` : ', the dead member down for good');
    }
    if (isInstant(f)) return `${f.kind} on ${f.target_name} at ${fmtNs(f.at_ns)} (an instant)`;
    return `${f.kind} on ${f.target_name} from ${fmtNs(f.at_ns)} for ${fmtNs(f.for_ns)}`;
  }

  function drawFaultTimeline(topo) {
    const W = 640, H = 30 + 18 * Math.max(1, topo.faults.length), L = 18, R = 18;
    const end = topo.duration_ns + topo.drain_ns;
    const x = (ns) => L + ((W - L - R) * ns) / Math.max(1, end);
    const ticks = [];
    const step = Math.pow(10, Math.floor(Math.log10(Math.max(1, end / 1e9)))) * 1e9;
    for (let t = 0; t <= end; t += step) {
      ticks.push(svg('line', { class: 'tick', x1: x(t), x2: x(t), y1: H - 18, y2: H - 14 }),
                 svg('text', { class: 'tick-label', x: x(t), y: H - 3, 'text-anchor': 'middle' }, t ? fmtNs(t) : '0 s'));
    }
    const marks = topo.faults.map((f, i) => {
      const y = 4 + 18 * i, cx = x(f.at_ns);
      if (isInstant(f)) {
        /* A mark at the instant, down to the axis; leader_death's downtime a thin tail. */
        const tail = f.kind === 'leader_death' && f.for_ns > 0 ? x(f.at_ns + f.for_ns) - cx : 0;
        const label = f.kind === 'leader_death' && f.for_ns > 0 ? `${f.kind} · ${f.target_name} (down ${fmtNs(f.for_ns)})`
          : `${f.kind} · ${f.target_name}`;
        return svg('g', { class: 'fault instant', 'data-kind': f.kind }, svgTitle(faultText(f)),
          svg('line', { class: 'instant-line', x1: cx, x2: cx, y1: y, y2: H - 18 }),
          ...(tail > 0 ? [svg('line', { class: 'down', x1: cx, x2: cx + tail, y1: y + 7, y2: y + 7 })] : []),
          svg('path', { class: 'instant-mark', d: `M${cx},${y} L${cx + 6},${y + 7} L${cx},${y + 14} L${cx - 6},${y + 7} z` }),
          svg('text', { x: cx + Math.max(tail, 6) + 4, y: y + 11 }, label));
      }
      const w = Math.max(2, x(f.at_ns + f.for_ns) - cx);
      return svg('g', { class: 'fault', 'data-kind': f.kind }, svgTitle(faultText(f)),
        svg('rect', { x: cx, y, width: w, height: 14 }),
        svg('text', { x: cx + w + 4, y: y + 11 }, `${f.kind} · ${f.target_name}`));
    });
    const none = topo.faults.length ? [] : [svg('text', { x: L, y: 15, class: 'tick-label' }, 'no faults: the arrivals are the trigger')];
    $('fault-timeline').replaceChildren(svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'faults-svg', preserveAspectRatio: 'none' },
      svg('line', { class: 'axis', x1: L, x2: W - R, y1: H - 18, y2: H - 18 }),
      svg('rect', { class: 'drain', x: x(topo.duration_ns), y: H - 20, width: x(end) - x(topo.duration_ns), height: 4 }),
      ...marks, ...none, ...ticks));
    $('fault-timeline').setAttribute('aria-label', topo.faults.length
      ? `faults: ${topo.faults.map(faultText).join('; ')}` : 'no faults');
  }

  /* The chart series the file's kinds have: the seven every component has (index.html's
   * options), then a kind's own. A choice the new file lacks falls back to goodput. */
  function buildSeriesChoice(topo) {
    const sel = $('fleet-series');
    for (const o of [...sel.querySelectorAll('option[data-kind]')]) o.remove();
    const kinds = new Set(topo.components.map((c) => c.kind));
    for (const s of KIND_SERIES) {
      if (kinds.has(s.kind)) sel.append(h('option', { value: s.key, textContent: s.label, 'data-kind': s.kind }));
    }
    if (!sel.value) sel.value = 'goodput';
  }

  function verdictText(rec) {
    if (!rec) return 'no verdict';
    if (rec.verdict === 'recovered') return rec.recover_ns != null ? `recovered in ${fmtNs(rec.recover_ns)}` : 'recovered';
    if (rec.verdict === 'stuck') return 'stuck (metastable)';
    return String(rec.verdict);
  }

  const cell = (key, v, fmt, title) => h('td', { textContent: FMT[fmt](v), 'data-key': key,
    'data-value': v == null ? '' : String(v), ...(title ? { title } : {}) });

  function fleetTable(report) {
    const f = report.fleet;
    return h('table', { className: `fleet-table ${modeOf(report)}` },
      h('caption', { textContent: runLabel(report) }),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', textContent: 'component' }),
        ...FLEET_COLUMNS.map(([, label]) => h('th', { scope: 'col', textContent: label })))),
      h('tbody', {}, ...f.components.map((c, i) => h('tr', { className: i === f.herd ? 'herd' : '' },
        h('th', { scope: 'row', textContent: `${c.name} (${c.kind})` }),
        ...FLEET_COLUMNS.map(([k, , fmt]) => cell(k, c[k], fmt))))));
  }

  /* An lb's figures plus its backend's handshake share (the service its call goes to). */
  function kindFigures(fleet, c, i) {
    if (c.kind !== 'lb') return c;
    const edge = (fleet.edges || []).find((e) => e.from === i);
    const be = edge && fleet.components[edge.to];
    const share = be && be.busy_ns > 0 ? be.handshake_ns / be.busy_ns : null;
    return { ...c, backend_handshake_share: share, backend: be ? be.name : null };
  }

  /* One table per kind with figures of its own (lb, coord): a row per component and run,
   * naive beside mitigated, so the two read as one comparison. */
  function kindTables(reports) {
    const f0 = reports[0].fleet;
    return Object.entries(KIND_TABLES).filter(([kind]) => f0.components.some((c) => c.kind === kind))
      .map(([kind, t]) => h('div', { className: 'fleet-table-box' }, h('table', { className: `fleet-table kind-table kind-${kind}` },
        h('caption', { textContent: `${t.title}: naive beside mitigated` }),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', textContent: 'component · run' }),
          ...t.columns.map(([, label, , title]) => h('th', { scope: 'col', textContent: label, title })))),
        h('tbody', {}, ...f0.components.flatMap((c0, i) => (c0.kind !== kind ? [] : reports.map((rp) => {
          const c = kindFigures(rp.fleet, rp.fleet.components[i], i);
          const tr = h('tr', { className: `${modeOf(rp)}${i === rp.fleet.herd ? ' herd' : ''}` },
            h('th', { scope: 'row', textContent: `${c.name} · ${runLabel(rp)}` }),
            ...t.columns.map(([k, , fmt]) => cell(k, c[k], fmt,
              k === 'backend_handshake_share' && c.backend ? `backend: ${c.backend}` :
                k === 'leader_ns' && c.leader_max_ns > 0 ? `longest: ${fmtNs(c.leader_max_ns)}` : '')));
          tr.dataset.component = c.name;
          tr.dataset.mode = modeOf(rp);
          return tr;
        })))))));
  }

  /* The file's drawing, and no results of an earlier scenario. */
  function build(sc) {
    $('fleet').hidden = !isFile(sc);
    destroyCharts();
    $('verdicts').replaceChildren();
    $('fleet-tables').replaceChildren();
    $('fleet-kinds').replaceChildren();
    $('fleet-chart-head').hidden = true;
    shown = null;
    if (!isFile(sc)) return;
    drawTopology(sc.topology);
    drawFaultTimeline(sc.topology);
    buildSeriesChoice(sc.topology);
  }

  /* A run's reports (naive, then each mitigated one) for settings @s, of the run @r. */
  function show(reports, s, r) {
    for (const report of reports) render(report, s, r); /* the herd's §1 view of each */
    shown = { reports, settings: s };
    $('verdicts').replaceChildren(...reports.map((report) => {
      const rec = report.fleet.recovery || {};
      const d = h('div', { className: `verdict ${modeOf(report)} v-${rec.verdict || 'none'}` },
        h('span', { className: 'verdict-k', textContent: runLabel(report) }),
        h('strong', { className: 'verdict-v', textContent: verdictText(rec) }),
        h('span', { className: 'hint', textContent: `goodput ${fmtNum(rec.goodput_before_per_s)}/s before the fault, ` +
          `${fmtNum(rec.goodput_after_per_s)}/s after` }));
      d.dataset.verdict = rec.verdict || '';
      d.dataset.mode = modeOf(report);
      return d;
    }));
    $('fleet-tables').replaceChildren(...reports.map((rp) => h('div', { className: 'fleet-table-box' }, fleetTable(rp))));
    $('fleet-kinds').replaceChildren(...kindTables(reports));
    $('fleet-chart-head').hidden = false;
    drawCharts();
    const said = reports.map((rp) => `${runLabel(rp)}: ${verdictText(rp.fleet.recovery)}`).join('; ');
    setStatus(`${reports[0].scenario} on sim, seed ${s.seed}: ${said} (done in ${fmtInt(performance.now() - r.t0)} ms)`);
    page.fleetRuns = (page.fleetRuns || 0) + 1;
    document.body.dataset.fleetRuns = String(page.fleetRuns);
  }

  function destroyCharts() {
    for (const c of charts) c.destroy();
    charts = [];
    $('fleet-charts').replaceChildren();
  }

  /* Shade each fault's window; an instant is a line. */
  const shade = (faults) => (u) => {
    const ctx = u.ctx;
    ctx.save();
    ctx.fillStyle = 'rgba(204,121,167,0.20)';
    ctx.strokeStyle = 'rgba(153,68,119,0.85)';
    ctx.lineWidth = 2;
    for (const f of faults) {
      const a = u.valToPos(f.at_ns / 1e9, 'x', true);
      if (isInstant(f)) {
        ctx.beginPath();
        ctx.moveTo(a, u.bbox.top);
        ctx.lineTo(a, u.bbox.top + u.bbox.height);
        ctx.stroke();
        continue;
      }
      const b = u.valToPos((f.at_ns + f.for_ns) / 1e9, 'x', true);
      ctx.fillRect(a, u.bbox.top, Math.max(1, b - a), u.bbox.height);
    }
    ctx.restore();
  };

  /* One chart per component of the selected series, every run of the last request on it, all
   * on one x range (seconds) with the faults marked. A kind's own series is charted for the
   * components of that kind, and for any other whose runs have some of it. */
  function drawCharts() {
    destroyCharts();
    if (!shown) return;
    const key = $('fleet-series').value;
    const own = KIND_SERIES.find((s) => s.key === key);
    const reports = shown.reports;
    const f0 = reports[0].fleet;
    const len = Math.max(...reports.map((rp) => rp.fleet.nbuckets));
    const x = Array.from({ length: len }, (_, i) => (i * f0.bucket_ns) / 1e9);
    const fmtY = key === 'latency_ns' ? fmtNs : fmtNum;
    const seriesOf = (rp, i) => {
      const tl = rp.fleet.components[i] && rp.fleet.components[i].timeline;
      return (tl && tl[key]) || [];
    };
    const label = key === 'latency_ns' ? 'latency' : own ? own.label : key;
    let first = true;
    f0.components.forEach((c, i) => {
      if (own && c.kind !== own.kind && !reports.some((rp) => seriesOf(rp, i).some((v) => v > 0))) return;
      const box = h('div', { className: 'fleet-chart', 'data-component': c.name, 'data-series': key });
      box.append(h('h3', { textContent: `${c.name} (${c.kind}) · ${label}` }));
      const el = h('div', { className: 'chart' });
      box.append(el);
      $('fleet-charts').append(box);
      const data = [x, ...reports.map((rp) => {
        const ys = seriesOf(rp, i);
        return x.map((_, j) => (j < ys.length ? ys[j] : null));
      })];
      const opts = {
        width: Math.max(260, Math.floor(($('fleet-charts').clientWidth || 640) / 2) - 16),
        height: 170,
        scales: { x: { time: false }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.08 : 1] } },
        axes: [{ label: 's', labelSize: 16 }, { size: 64, values: (u, vals) => vals.map(fmtY) }],
        series: [{ label: 's', value: (u, v) => (v == null ? '—' : `${fmtNum(v)} s`) },
          ...reports.map((rp) => modeSeries(modeOf(rp), rp, () => ({ points: { show: false },
            value: (u, v) => (v == null ? '—' : fmtY(v)) })))],
        hooks: { drawAxes: [shade(f0.faults)] },
        legend: { show: first },
      };
      first = false;
      charts.push(new uPlot(opts, data, el));
    });
  }

  /* A resize redraws the charts of the run shown (their width follows the page). */
  const redraw = () => { if (shown) drawCharts(); };

  $('fleet-series').addEventListener('change', drawCharts);
  return { build, show, redraw };
}
