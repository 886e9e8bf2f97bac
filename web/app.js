/* app.js — herd serve's page: pick a herd, trigger it, see what it cost.
 *
 * Talks to the server's JSON API only: GET /api/scenarios (the catalogue `herd list` prints,
 * plus live_max_n per scenario), POST /api/run/stream (Server-Sent Events: progress, then the
 * report) and POST /api/run (the same report in one answer, as `herd run --format json`),
 * which is used when the stream cannot be. Both take the same JSON body; no GET starts a run
 * (any page can make a browser send a GET). No model logic lives here: every figure on the
 * page is one the server measured or simulated; the page only draws it.
 *
 * What the page promises, and how:
 * - Every run setting and the seed are in the URL (pushState on Trigger; Back/Forward show
 *   what the URL says, re-running it), so a link reproduces the run.
 * - One run at a time: a new run (Trigger, a try-this link, Back/Forward) aborts the request
 *   of the run in flight, and an answer to a superseded run is dropped, so results never
 *   interleave. The server may still finish the abandoned run; an abandoned live run keeps
 *   the live lock until it ends, and the server's 409 then says so on the page.
 * - The p99 bars and both charts compare the last naive and the last mitigated run of one
 *   scenario, backend and N (page.kept); the charts draw both modes on one shared y scale.
 * - Figures carry their uncertainty as the report gives it: each p99 bar its 95 % interval
 *   (intervals.latency_ns), a percentile with too few samples marked open, and a ratio only
 *   where the two intervals do not overlap ("no difference measured" otherwise); a run the
 *   server measured on a machine too busy to trust (machine.trusted false) says so.
 * - One vocabulary of outcome classes (docs/glossary.md, served at /glossary.md): the grid,
 *   its legend and the counters use exactly the server's five classes.
 *
 * Cost: a render rebuilds 240 tiles and redraws two uPlot charts (a few ms); a chart is only
 * rebuilt when its shape (series, scale) changes.
 *
 * An ES module (the page's modules load natively, no bundler): a scenario file's view, its
 * topology, faults, verdicts, per-component tables and charts, is fleet.js's; this file hands
 * it the helpers and the reports.
 *
 * Hooks for tests and the benchmark (window.herdPage): `runs` counts finished renders, `last`
 * holds the last report and settings, `pending` is set until both charts of a render have
 * drawn, `perf` lists Trigger → charts-drawn times (ms) and `perfDetail` splits each into the
 * API's answer and the drawing.
 */
import { fleetView } from './fleet.js';

(function () {
  /* The five outcome classes, in the glossary's order, each with its symbol (colour is never
   * the only cue) and its one-line meaning; the meanings are replaced by the server's own
   * (GET /api/scenarios, "outcomes") once the catalogue has loaded. */
  const CLASSES = [
    { name: 'useful', sym: '✓', doc: 'did the needed work' },
    { name: 'served', sym: '○', doc: 'got what it needed without doing the work' },
    { name: 'wasted', sym: '✗', doc: 'woke or acted, and its work was redundant or thrown away' },
    { name: 'failed', sym: '!', doc: 'error, timeout, shed or rejected' },
    { name: 'idle', sym: '·', doc: 'not woken by the event' },
  ];
  const SYM = Object.fromEntries(CLASSES.map((c) => [c.name, c.sym]));
  const PCTS = [['p50', 'p50'], ['p90', 'p90'], ['p99', 'p99'], ['p999', 'p99.9'], ['max', 'max']];
  const MODES = ['naive', 'mitigated'];
  /* Okabe–Ito vermillion and blue; the mitigated line is dashed too, so colour is never the
   * only cue (the bars do the same with a stripe, style.css). */
  const LOOK = {
    naive: { stroke: '#d55e00', fill: 'rgba(213,94,0,0.10)', dash: [] },
    mitigated: { stroke: '#0072b2', fill: 'rgba(0,114,178,0.10)', dash: [6, 4] },
  };
  /* The counters: element id suffix → report field (the four of the herd's shape, then served
   * and failed, smaller). */
  const COUNTERS = [['wakes', 'wakes'], ['useful', 'useful'], ['wasted', 'wasted'], ['origin', 'origin_load'],
                    ['served', 'served'], ['failed', 'failed']];
  /* Series that are maxima within a bucket (re-binning takes the max, not the sum). */
  const GAUGES = new Set(['inflight', 'queue']);
  const SERIES_HELP = {
    wakes: 'waiters woken per bucket',
    arrivals: 'arrivals at the resource per bucket',
    inflight: 'most requests in flight at the resource within the bucket',
    queue: 'deepest queue at the resource within the bucket',
    errors: 'errors per bucket',
    retries: 'retries per bucket',
    stale: 'stale serves per bucket',
  };
  const SERIES_PREFERENCE = ['wakes', 'inflight', 'arrivals'];
  const MAX_GRID = 240;        /* the report lists the first 240 waiters */
  const EVENTS_MAX = 100000;   /* the CLI's HERD_EVENTS_MAX: the catalogue does not carry it */
  const CHART_HEIGHT = 260;
  /* A run shorter than this shows no progress line: it would only flash. Also the period at
   * which the line's "so far" ticks. */
  const PROGRESS_AFTER_MS = 250;

  /* ---------------------------------------------------------------- scenario texts -- */
  /* Written for this page. Each `try` entry is a preset its link loads and runs, on the backend
   * in use unless the preset names one. */
  const TEXT = {
    accept: {
      looking: [
        'Each tile is one worker — a thread or a process — asleep on the same listening ' +
        'socket. Only the first 240 are drawn; the counters always cover all N.',
        'A connection arrives. Green ✓ (useful) is the worker that accepted it; vermillion ✗ ' +
        '(wasted) woke, found the connection already taken and went back to sleep; grey · ' +
        '(idle) slept on. ' +
        'Wakes are counted as context switches, because most wake-ups of a naive epoll ' +
        'herd never make it back to user space to be seen.',
      ],
      notice: [
        'Naive (each worker’s epoll watching the shared socket without EPOLLEXCLUSIVE), ' +
        'one connection costs about N wakes for one accept. Wasted wakes grow with N, and ' +
        'so does the wait for the connection: every woken worker needs a turn on the CPUs.',
        'Every mitigation brings wakes per connection back to one. They differ in who gets ' +
        'the work: EPOLLEXCLUSIVE favours the most recently idle worker, blocking accept() ' +
        'takes turns, SO_REUSEPORT hashes each connection to one socket.',
      ],
      try: [
        { label: 'Naive epoll herd, 1,000 workers', set: { mode: 'naive', n: 1000 } },
        { label: 'The same with EPOLLEXCLUSIVE', set: { mode: 'mitigated', mitigation: 'epoll-exclusive', n: 1000 } },
        { label: 'A burst of connections instead of one at a time', set: { mode: 'naive', n: 1000, 'p.pattern': 'burst' } },
        { label: '100,000 workers in the simulator', set: { mode: 'naive', n: 100000, backend: 'sim' } },
      ],
    },
    condvar: {
      looking: [
        'Each tile is a thread blocked in pthread_cond_wait on one work queue. The producer ' +
        'queues a single item and wakes the waiters.',
        'One thread takes the item (✓ useful). Under broadcast, every other thread wakes too, ' +
        'takes the mutex, finds the queue empty and waits again (✗ wasted). Origin load is mutex ' +
        'acquisitions: the price of finding out there was nothing to do.',
      ],
      notice: [
        'With broadcast, wakes and mutex acquisitions grow as N × items while useful work ' +
        'stays at one per item. With signal, both fall to one per item and the p99 bar ' +
        'shrinks by orders of magnitude — watch the two lines on the shared timeline axis.',
        'Broadcast is still the right call for news every waiter must act on (shut down, ' +
        'reconfigure). For one item of work that any thread can take, wake one.',
      ],
      try: [
        { label: 'Broadcast to 1,000 threads', set: { mode: 'naive', n: 1000 } },
        { label: 'Signal instead', set: { mode: 'mitigated', mitigation: 'signal', n: 1000 } },
        { label: 'One layer down: a raw futex, wake all', set: { mode: 'naive', n: 1000, 'p.primitive': 'futex' } },
        { label: 'Broadcast to 100,000 simulated threads', set: { mode: 'naive', n: 100000, backend: 'sim' } },
      ],
    },
    cache: {
      looking: [
        'Each tile is a request for the same hot key, arriving just as its cache entry ' +
        'expires. ✓ (useful) ran the refresh whose value was used; ✗ (wasted) sent the origin ' +
        'database a duplicate query; ○ (served) was handed the value another request fetched, ' +
        'or the old value while one refresh ran; ! (failed) got an error or missed its deadline.',
        'Origin load counts the queries that actually reached the database — the thing the ' +
        'cache was there to protect.',
      ],
      notice: [
        'Naive, every miss is its own origin query: origin load is N per expiry, the queries ' +
        'queue behind each other and the whole herd waits as long as the slowest one. Push N ' +
        'up and watch p99 climb much faster than N.',
        'Singleflight sends one query per expiry; the others wait for its result (served, not ' +
        'wasted: they did no redundant work) and the database sees one. Stale-while-revalidate ' +
        'and XFetch spare everyone the ' +
        'wait. TTL jitter cannot help a single hot key — it spreads expiries of many keys.',
      ],
      try: [
        { label: 'Stampede: 200 requests miss at once', set: { mode: 'naive', n: 200 } },
        { label: 'Singleflight', set: { mode: 'mitigated', mitigation: 'singleflight', n: 200 } },
        { label: 'Stale-while-revalidate', set: { mode: 'mitigated', mitigation: 'swr', n: 200 } },
        { label: 'A bigger stampede: 2,000 requests', set: { mode: 'naive', n: 2000, backend: 'sim' } },
        { label: 'TTL jitter across 100 keys', set: { mode: 'mitigated', mitigation: 'ttl-jitter', n: 200, 'p.keys': 100 } },
      ],
    },
    cron: {
      looking: [
        'Each tile is a server with the same crontab line. At the boundary every one of them ' +
        'calls the same backend. ✓ (useful) was answered before its timeout, queued or not; ' +
        '✗ (wasted) gave up, and the backend still did its work; ! (failed) gave up on a ' +
        'request nobody worked on, or got an error.',
        'Nothing is wrong with any single server. The herd is the fleet agreeing on the same ' +
        'millisecond.',
      ],
      notice: [
        'Naive, the timeline is one spike: the whole fleet arrives within a few milliseconds ' +
        'and the queue at the backend holds almost all of it. The backend does the same total ' +
        'work either way.',
        'With jitter (a random delay) or splay (a stable per-host offset) the same requests ' +
        'arrive spread over the window, the queue stays short and p99 falls. The wider the ' +
        'window, the flatter the line — at the price of running later.',
      ],
      try: [
        { label: '500 servers at xx:00:00', set: { mode: 'naive', n: 500 } },
        { label: 'The same with jitter', set: { mode: 'mitigated', mitigation: 'jitter', n: 500 } },
        { label: 'Stable splay per host', set: { mode: 'mitigated', mitigation: 'splay', n: 500 } },
        { label: '50,000 servers in the simulator', set: { mode: 'naive', n: 50000, backend: 'sim' } },
      ],
    },
    queue: {
      looking: [
        'A single queue in front of a service: requests arrive at a rate, servers take them ' +
        'in turn. No herd by itself — the baseline the herds are measured against.',
        'Each tile is a request, the first 240 to arrive: ✓ (useful) was served within its ' +
        'client\'s timeout; ✗ (wasted) was served after its client gave up; ! (failed) was shed ' +
        'or rejected. N is not used here: the requests that arrive are the waiters.',
      ],
      notice: [
        'Raise the arrival rate towards capacity and watch the queue series and the tail ' +
        'percentiles: waiting time grows without bound as utilisation approaches one.',
      ],
      try: [
        { label: 'The default queue', set: { mode: 'naive' } },
        { label: 'Shed requests that waited too long', set: { mode: 'mitigated', mitigation: 'shed' } },
      ],
    },
    'backoff-occ': {
      looking: [
        'N clients retry an optimistic update on one record; each conflict sends them back ' +
        'to try again after a backoff. ✓ (useful) is the write that landed; ✗ (wasted) a ' +
        'write that lost to a newer version.',
      ],
      notice: [
        'Plain exponential backoff keeps the clients in step, so they keep colliding. Adding ' +
        'jitter breaks the lockstep: fewer retries reach the record and the work finishes sooner.',
      ],
      try: [
        { label: 'Retry immediately', set: { mode: 'naive' } },
        { label: 'Exponential backoff', set: { mode: 'mitigated', mitigation: 'exponential' } },
        { label: 'Full jitter', set: { mode: 'mitigated', mitigation: 'full-jitter' } },
      ],
    },
  };

  /* ------------------------------------------------------------------------ state -- */
  const page = {
    catalogue: null,      /* {scenarios: [...]} from the server */
    byName: {},
    kept: { naive: null, mitigated: null }, /* {report, settings} of the last run per mode */
    seq: 0,               /* runs started; an answer to any but the newest is dropped */
    inflight: null,       /* the run being waited for: {seq, abort, t0, progress, ticker} */
    charts: { timeline: null, latency: null },
    runs: 0,
    last: null,
    pending: null,        /* {t0, tFetched, left} until both charts have drawn */
    perf: [],
    perfDetail: [],       /* {fetch, render} ms: where the time of each perf entry went */
  };
  window.herdPage = page;

  const $ = (id) => document.getElementById(id);
  const checked = (name) => document.querySelector(`input[name=${name}]:checked`).value;
  const currentScenario = () => page.byName[$('scenario').value];
  /* A scenario file's row (shipped, or pasted in the editor): it carries its topology. */
  const isFile = (sc) => !!(sc && sc.topology);
  /* The picker's value for the file pasted in the editor (never a catalogue name: no '('). */
  const PASTED = '(pasted)';
  const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)');

  /* Make an element: @props are set as properties where the element has them (textContent,
   * className, htmlFor, value…) and as attributes otherwise (aria-*, data-*). */
  function h(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k in e) e[k] = v;
      else e.setAttribute(k, v);
    }
    e.append(...children);
    return e;
  }

  /* ------------------------------------------------------------------- formatting -- */
  const fmtInt = (v) => (v == null || !isFinite(v) ? '—' : Math.round(v).toLocaleString('en-US'));

  function fmtNs(ns) {
    if (ns == null || !isFinite(ns)) return '—';
    const a = Math.abs(ns);
    const sig = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
    if (a < 1e3) return `${Math.round(ns)} ns`;
    if (a < 1e6) return `${sig(ns / 1e3)} µs`;
    if (a < 1e9) return `${sig(ns / 1e6)} ms`;
    return `${sig(ns / 1e9)} s`;
  }

  /* Tick labels of a log axis: only the powers of ten are labelled (the 2..9 lines between
   * them stay as grid lines), else the labels run into each other. */
  function isDecade(v) {
    if (!(v > 0)) return false;
    const e = Math.log10(v);
    return Math.abs(e - Math.round(e)) < 1e-6;
  }

  function fmtDecadeNs(v) {
    if (!isDecade(v)) return '';
    const units = [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs'], [1, 'ns']];
    for (const [div, u] of units) if (v >= div) return `${+(v / div).toPrecision(3)} ${u}`;
    return `${+v.toPrecision(3)} ns`;
  }

  function fmtNum(v) {
    if (v == null || !isFinite(v)) return '—';
    if (Number.isInteger(v)) return fmtInt(v);
    return Math.abs(v) >= 100 ? fmtInt(v) : String(+v.toPrecision(4));
  }

  /* "1 event", "3 events", "1,000 workers": a count and its noun, in the right number. */
  const pluralOf = (word) => (/(s|x|z|ch|sh)$/.test(word) ? `${word}es` : `${word}s`);
  const plural = (v, word) => `${fmtInt(v)} ${Number(v) === 1 ? word : pluralOf(word)}`;

  /* A ratio to about three figures: 0.42, 8.1, 12.3, 1,234. */
  function fmtRatio(v) {
    if (!isFinite(v)) return '∞';
    if (v >= 100) return fmtInt(v);
    if (v >= 1) return v.toFixed(1);
    return String(+v.toPrecision(2));
  }

  /* "2026-12-07T15:56:03.296Z" → "2026-12-07 15:56:03 UTC" (the server's start, as it said). */
  const fmtStart = (iso) => (typeof iso === 'string'
    ? iso.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC') : '—');

  const fmtPct = (share) => `${fmtNum(Math.round(1000 * share) / 10)} %`;

  /* "naive (epoll)", "mitigated (singleflight)": the mode and what actually ran. */
  const modeOf = (report) => (report.mode === 'mitigated' ? 'mitigated' : 'naive');
  const runLabel = (report) => (report.mode === 'mitigated'
    ? `mitigated (${report.mitigation})` : `naive (${report.strategy || 'none'})`);
  const nounOf = (name) => (page.byName[name] && page.byName[name].waiter_noun) || 'waiter';
  /* Whether a scenario's N is its population (every one but queue, whose waiters are the
   * requests that happen to arrive): its catalogue row's waiters say "N ...". */
  const nIsPopulation = (name) => !page.byName[name] || /\bN\b/.test(page.byName[name].waiters || 'N');

  /* ---------------------------------------------------------------- intervals -- */
  /* One figure's 95 % interval from the report's intervals (point, lo, hi, n, enough_samples):
   * lo/hi null are open sides. A report without intervals gives {missing: true}. */
  function intervalOf(report, pct) {
    const iv = report.intervals && report.intervals.latency_ns && report.intervals.latency_ns[pct];
    if (!iv) return { point: report.latency_ns[pct], lo: null, hi: null, n: report.latency_ns.count,
                      enough: true, missing: true };
    return { point: iv.point, lo: iv.lo, hi: iv.hi, n: iv.n, enough: iv.enough_samples !== false,
             missing: false };
  }

  /* Latencies are never negative: an open lower side is 0, an open upper side unbounded. */
  const loOf = (iv) => (iv.lo == null ? 0 : iv.lo);
  const hiOf = (iv) => (iv.hi == null ? Infinity : iv.hi);
  const overlap = (a, b) => loOf(a) <= hiOf(b) && loOf(b) <= hiOf(a);

  /* What the page may say of naive p99 @a against mitigated p99 @b: {verdict, text, why}.
   * verdict: 'no-difference' (the intervals overlap: never a ratio then), 'ratio' (the
   * conservative interval [a.lo/b.hi, a.hi/b.lo] beside the point ratio), 'unbounded' (one
   * side's p99 is 0 with no doubt: no finite ratio), or 'no-intervals' (a report without
   * them: the point ratio, said to be bare). */
  function compareP99(a, b) {
    if (a.missing || b.missing) {
      return { verdict: 'no-intervals', text: b.point > 0 ? `${fmtRatio(a.point / b.point)}×` : 'no ratio',
               why: 'these reports carry no intervals: a bare ratio of two points, not a measured difference' };
    }
    if (overlap(a, b)) {
      return { verdict: 'no-difference', text: 'no difference measured',
               why: 'the two 95 % intervals overlap' };
    }
    if (hiOf(b) === 0 || hiOf(a) === 0) {
      const zero = hiOf(b) === 0 ? 'mitigated' : 'naive';
      return { verdict: 'unbounded', text: `no ratio: the ${zero} p99 is 0 ns`,
               why: `the ${zero === 'naive' ? 'mitigated' : 'naive'} p99 is ${fmtNs((zero === 'naive' ? b : a).point)}` };
    }
    const lo = loOf(a) / hiOf(b);
    const hi = hiOf(a) / loOf(b); /* Infinity when a is open above or b's lower side is 0 */
    const point = b.point > 0 ? `${fmtRatio(a.point / b.point)}× ` : '';
    const range = isFinite(hi) ? `(${fmtRatio(lo)}–${fmtRatio(hi)})` : `(≥ ${fmtRatio(lo)})`;
    return { verdict: 'ratio', text: `${point}${range}`, lo, hi,
             why: `95 % interval in brackets; the intervals do not overlap: the mitigation ${lo >= 1 ? 'lowered' : 'raised'} p99` };
  }

  /* "95 %: 5.32 ms – 5.46 ms", and for a percentile with too few samples to bound it,
   * "p99 of 60 samples: open above". */
  function intervalText(iv, label) {
    if (iv.missing) return { range: 'no interval in this report', few: '' };
    const lo = iv.lo == null ? 'open below' : fmtNs(iv.lo);
    const hi = iv.hi == null ? 'open above' : fmtNs(iv.hi);
    const few = iv.hi == null ? `${label} of ${plural(iv.n, 'sample')}: open above`
      : !iv.enough ? `${label} of ${plural(iv.n, 'sample')}: near the largest seen` : '';
    return { range: `95 %: ${lo} – ${hi}`, few };
  }

  /* -------------------------------------------------------------------- settings -- */
  /* A settings object: {scenario, backend, mode, mitigation, n, events, seed, runs, params{}},
   * each value the text the user typed or the URL held. The server parses numbers as the CLI
   * does, and a seed may be larger than a JS number holds exactly. runs is optional: '' is the
   * server's default (3 on live, 1 on sim), and then it is neither in the URL nor sent. */
  const SETTING_KEYS = ['backend', 'mode', 'mitigation', 'n', 'events', 'seed', 'runs'];
  const OPTIONAL_KEYS = new Set(['runs']);
  /* What "runs" may be and its defaults: the catalogue's "runs" (max, stream_max,
   * live_default, sim_default, sim_auto_max, sim_auto_samples). */
  const runsInfo = () => page.catalogue.runs;

  /* The params the page sets: a text param (a service's URL) is the command line's, and the
   * page runs herd's own servers. */
  const pageParams = (sc) => sc.params.filter((p) => p.type !== 'text');

  function scenarioDefaults(sc) {
    const params = {};
    for (const p of pageParams(sc)) params[p.key] = String(p.default);
    return {
      scenario: sc.name,
      backend: 'sim',
      /* a file runs as written and with its mitigations, side by side */
      mode: isFile(sc) && sc.mitigations.length ? 'both' : 'naive',
      mitigation: sc.default_mitigation || (sc.mitigations[0] && sc.mitigations[0].name) || '',
      n: String(sc.n_default),
      events: String(sc.events_default),
      seed: '1',
      runs: '',
      params,
    };
  }

  /* @q's run on scenario @sc: the scenario's defaults under what the URL says. */
  function settingsFromQuery(q, sc) {
    const s = scenarioDefaults(sc);
    for (const k of SETTING_KEYS) if (q.has(k)) s[k] = q.get(k);
    for (const p of pageParams(sc)) if (q.has(`p.${p.key}`)) s.params[p.key] = q.get(`p.${p.key}`);
    return s;
  }

  function settingsToQuery(s) {
    const q = new URLSearchParams({ scenario: s.scenario });
    for (const k of SETTING_KEYS) if (!(OPTIONAL_KEYS.has(k) && !s[k])) q.set(k, s[k]);
    for (const [k, v] of Object.entries(s.params)) q.set(`p.${k}`, v);
    return q;
  }

  /* The checked mitigations of a file, in the file's order, joined as the API takes them. */
  const fileMitigation = () => [...document.querySelectorAll('#file-mits-boxes input:checked')]
    .map((el) => el.value).join('+');

  function settingsFromForm() {
    const sc = currentScenario();
    const params = {};
    for (const p of pageParams(sc)) params[p.key] = $(`p-${p.key}`).value.trim();
    const mits = isFile(sc) ? fileMitigation() : '';
    return {
      scenario: $('scenario').value,
      backend: checked('backend'),
      mode: isFile(sc) ? (mits ? 'both' : 'naive') : checked('mode'),
      mitigation: isFile(sc) ? mits : $('mitigation').value,
      n: $('n').value.trim(),
      events: $('events').value.trim(),
      seed: $('seed').value.trim(),
      runs: $('runs').value.trim(),
      params,
    };
  }

  /* Put @s into the form, rebuilding the scenario's own parts when the scenario changes. */
  function settingsToForm(s) {
    if ($('params').dataset.scenario !== s.scenario) {
      $('scenario').value = s.scenario;
      buildScenario(page.byName[s.scenario]);
    }
    const setRadio = (name, v) => {
      const el = document.querySelector(`input[name=${name}][value="${CSS.escape(v)}"]`);
      if (el && !el.disabled) el.checked = true;
    };
    setRadio('backend', s.backend);
    setRadio('mode', s.mode);
    /* A mitigation the scenario lacks stays in @s for the server to refuse; the form keeps
     * a real one. */
    if (page.byName[s.scenario].mitigations.some((m) => m.name === s.mitigation)) $('mitigation').value = s.mitigation;
    const want = new Set(s.mode === 'naive' ? [] : String(s.mitigation || '').split('+'));
    for (const el of document.querySelectorAll('#file-mits-boxes input')) el.checked = want.has(el.value);
    $('n').value = s.n;
    $('events').value = s.events;
    $('seed').value = s.seed;
    $('runs').value = s.runs || '';
    for (const [k, v] of Object.entries(s.params)) {
      const el = $(`p-${k}`);
      if (el) el.value = v;
    }
    buildTryLinks(page.byName[s.scenario]);
    formChanged();
  }

  /* Two runs whose p99 and timelines may stand side by side: p99 grows with N, and a live
   * and a simulated herd are different machines. */
  function comparable(a, b) {
    return a.scenario === b.scenario && a.backend === b.backend && Number(a.n) === Number(b.n);
  }

  /* What else differs between two comparable runs, for the note under a bar. */
  function differences(a, b) {
    const out = ['events', 'seed', 'runs'].filter((k) => (a[k] || '') !== (b[k] || ''));
    for (const k of Object.keys(a.params)) if (a.params[k] !== b.params[k]) out.push(`${k} = ${a.params[k]}`);
    return out;
  }

  function maxN(sc, backend) {
    const nMax = sc.n_max || 1000000;
    return backend === 'live' ? Math.max(0, Math.min(nMax, sc.live_max_n || 0)) : nMax;
  }

  const canRunLive = (sc) => sc.backends.includes('live') && sc.live_max_n > 0;

  /* A quick check before asking the server (which checks everything again, as the CLI does):
   * a one-line reason, or null. */
  function checkSettings(s) {
    const sc = page.byName[s.scenario];
    const intIn = (v, lo, hi) => /^\d+$/.test(v) && Number(v) >= lo && Number(v) <= hi;
    /* A file sets its own sizes: the seed is all the page adds (and the mitigations). */
    if (isFile(sc)) return /^\d+$/.test(s.seed) ? null : 'seed must be a non-negative integer';
    if (!sc.backends.includes(s.backend)) return `${sc.name} has no ${s.backend} backend; choose sim`;
    if (s.backend === 'live' && !canRunLive(sc)) return `no live ${sc.name} herd on this machine; choose sim`;
    const nMax = maxN(sc, s.backend);
    if (!intIn(s.n, 1, nMax)) {
      return `N must be an integer from 1 to ${fmtInt(nMax)}` +
        (s.backend === 'live' ? ' on live (this machine\'s limit)' : '');
    }
    if (!intIn(s.events, 1, EVENTS_MAX)) return `events must be an integer from 1 to ${fmtInt(EVENTS_MAX)}`;
    if (!/^\d+$/.test(s.seed)) return 'seed must be a non-negative integer';
    if (s.runs && !intIn(s.runs, 1, runsInfo().max)) {
      return `runs must be an integer from 1 to ${fmtInt(runsInfo().max)}, or empty for the server's default`;
    }
    return null;
  }

  /* The run as the API takes it: [field, text] pairs, parameters as p.KEY; postBody() makes
   * the JSON object both POST /api/run and POST /api/run/stream take. */
  function apiFields(s) {
    const sc = page.byName[s.scenario];
    if (isFile(sc)) {
      /* a file's own sizes: no N, events or runs; a pasted file goes as its text */
      const f = [sc.text != null ? ['file', sc.text] : ['scenario', s.scenario], ['mode', s.mode]];
      if (s.mode !== 'naive') f.push(['mitigation', s.mitigation]);
      f.push(['seed', s.seed]);
      return f;
    }
    const f = [['scenario', s.scenario], ['backend', s.backend], ['mode', s.mode]];
    if (s.mode === 'mitigated') f.push(['mitigation', s.mitigation]);
    f.push(['n', s.n], ['events', s.events], ['seed', s.seed]);
    if (s.runs) f.push(['runs', s.runs]);
    for (const [k, v] of Object.entries(s.params)) if (v !== '') f.push([`p.${k}`, v]);
    return f;
  }

  function postBody(s) {
    /* A number goes as a JSON number when that loses nothing; anything else (a choice, a seed
     * past 2^53, a typo) as its text, for the server to parse or refuse as the CLI does. */
    const value = (v) => (String(Number(v)) === v ? Number(v) : v);
    const body = { params: {} };
    for (const [k, v] of apiFields(s)) {
      if (k.startsWith('p.')) body.params[k.slice(2)] = value(v);
      else body[k] = ['n', 'events', 'seed', 'runs'].includes(k) ? value(v) : v;
    }
    return body;
  }

  /* -------------------------------------------------------------- building the form -- */
  /* The herds, then the scenario files (shipped, and the one pasted in the editor). */
  function buildScenarioPicker() {
    const opt = (sc) => h('option', { value: sc.name, textContent: `${sc.name} — ${sc.summary}` });
    const files = page.catalogue.scenarios.filter(isFile);
    const pasted = page.byName[PASTED];
    $('scenario').replaceChildren(
      h('optgroup', { label: 'herds' }, ...page.catalogue.scenarios.filter((sc) => !isFile(sc)).map(opt)),
      h('optgroup', { label: 'scenario files', id: 'files-group' }, ...files.map(opt),
        ...(pasted ? [h('option', { value: PASTED, textContent: `your file: ${pasted.fileName} — ${pasted.summary}` })] : [])));
  }

  function buildScenario(sc) {
    const file = isFile(sc);
    for (const id of ['n-row', 'mode-row', 'mitigation-row']) $(id).hidden = file;
    $('file-mits').hidden = !file;
    $('more').querySelector('summary').textContent = file ? 'More settings (seed)'
      : 'More settings (events, seed, runs, scenario parameters)';
    for (const id of ['events', 'runs']) {
      for (const el of [document.querySelector(`label[for=${id}]`), $(id), $(`${id}-hint`)]) el.hidden = file;
    }
    $('file-mits-boxes').replaceChildren(...(file ? sc.mitigations : []).map((m) => h('label',
      { title: m.help }, h('input', { type: 'checkbox', value: m.name, checked: m.name === sc.default_mitigation }),
      ` ${m.name}`)));
    fleet.build(sc);
    $('mitigation').replaceChildren(...sc.mitigations.map((m) =>
      h('option', { value: m.name, textContent: `${m.name} (${m.family})` })));
    $('mitigation').value = sc.default_mitigation;
    buildParams(sc);
    buildBackends(sc);
    $('noun-label').textContent = pluralOf(sc.waiter_noun || 'waiter');
    fillDl($('meta'), [['trigger', sc.trigger], ['waiters', sc.waiters], ['resource', sc.resource],
                       ['naive', `${sc.naive}: ${sc.naive_help}`]]);
    const t = TEXT[sc.name] || {
      looking: [`${sc.summary}. Each tile is one of the N ${pluralOf(sc.waiter_noun || 'waiter')}.`],
      notice: ['Trigger it naive, then mitigated, and compare the counters and the p99 bars.'],
    };
    paragraphs($('looking'), t.looking);
    paragraphs($('notice'), t.notice);
  }

  function buildParams(sc) {
    const box = $('params');
    box.dataset.scenario = sc.name;
    box.replaceChildren(...pageParams(sc).flatMap((p) => {
      const id = `p-${p.key}`;
      const input = p.type === 'enum'
        ? h('select', {}, ...p.choices.map((c) => h('option', { value: c, textContent: c })))
        : h('input', { type: 'number', min: p.min, max: p.max, step: p.type === 'int' ? '1' : 'any' });
      Object.assign(input, { id, name: `p.${p.key}`, value: String(p.default) });
      input.setAttribute('aria-describedby', `${id}-hint`);
      const help = p.type === 'enum' ? p.help
        : `${p.help} (${fmtNum(p.min)}–${fmtNum(p.max)}, default ${fmtNum(p.default)})`;
      return [h('label', { htmlFor: id, textContent: p.unit && p.unit !== p.key ? `${p.key} (${p.unit})` : p.key }),
              input,
              h('span', { className: 'hint', id: `${id}-hint`, textContent: help })];
    }));
  }

  function buildBackends(sc) {
    const sim = document.querySelector('input[name=backend][value=sim]');
    const live = $('backend-live');
    sim.disabled = !sc.backends.includes('sim');
    live.disabled = !canRunLive(sc);
    if (live.disabled && live.checked) sim.checked = true;
    $('backend-hint').textContent = !sc.backends.includes('live') ? '(simulated only)'
      : live.disabled ? '(no live backend on this machine)' : '';
  }

  function fillDl(dl, rows) {
    dl.replaceChildren(...rows.flatMap(([k, v]) => [h('dt', { textContent: k }), h('dd', { textContent: v })]));
  }

  function paragraphs(el, list) {
    el.replaceChildren(...list.map((t) => h('p', { textContent: t })));
  }

  /* A try-this preset: the scenario's defaults on the backend in use (a preset that needs the
   * simulator names it), with the preset's own settings on top. */
  function presetSettings(sc, preset) {
    const s = scenarioDefaults(sc);
    if (checked('backend') === 'live' && canRunLive(sc)) s.backend = 'live';
    for (const [k, v] of Object.entries(preset.set)) {
      if (k.startsWith('p.')) s.params[k.slice(2)] = String(v);
      else s[k] = String(v);
    }
    return s;
  }

  /* Real links (the href is the run's URL: open it in a new tab, copy it), which run in
   * place on a plain click or Enter. The links sit below the charts, so the page scrolls up
   * to the waiters the run is about to flip; the focus stays on the link, for the next one. */
  function buildTryLinks(sc) {
    const presets = (TEXT[sc.name] && TEXT[sc.name].try) || [];
    $('try').replaceChildren(...presets.map((preset) => {
      const s = presetSettings(sc, preset);
      const a = h('a', { href: `?${settingsToQuery(s)}`, textContent: preset.label });
      a.addEventListener('click', (ev) => {
        if (ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
        ev.preventDefault();
        settingsToForm(s);
        run(s, true);
        $('herd').scrollIntoView({ behavior: reducedMotion.matches ? 'auto' : 'smooth', block: 'start' });
      });
      return h('li', {}, a);
    }));
  }

  /* After any change to the form: the N limits of the chosen backend, the mitigation's help,
   * and, while no run is shown, the grid of idle waiters the next run will draw. */
  function formChanged() {
    const sc = currentScenario();
    const backend = checked('backend');
    const hi = maxN(sc, backend);
    $('n').max = hi;
    $('n-hint').textContent = backend === 'live' ? `1–${fmtInt(hi)} on live (this machine)` : `1–${fmtInt(hi)} on sim`;
    const m = sc.mitigations.find((x) => x.name === $('mitigation').value);
    $('mitigation-help').textContent = m
      ? `${checked('mode') === 'naive' ? 'Next mitigated run' : 'Mitigation'}: ${m.name} — ${m.help}` : '';
    if (isFile(sc)) {
      const mits = fileMitigation();
      $('mitigation-help').textContent = mits
        ? `Mitigated: ${mits.split('+').map((x) => `${x} — ${(sc.mitigations.find((m) => m.name === x) || {}).help}`).join('; ')}`
        : 'No mitigation checked: the file runs as written only.';
    }
    if (!page.last) drawIdleGrid(sc.name, Number($('n').value));
  }

  /* ---------------------------------------------------------------------- running -- */
  /* @spoken is read out by screen readers with @text but not shown (the figures are on the
   * page already). */
  function setStatus(text, isError, spoken) {
    const st = $('status');
    st.replaceChildren(text);
    if (spoken) st.append(h('span', { className: 'visually-hidden', textContent: spoken }));
    st.classList.toggle('error', !!isError);
  }

  /* The server's one-line reason from a 4xx/5xx answer ({"error": "..."}), and when to try
   * again if it said (409: a live run is going; 503: busy). */
  async function errorOf(res) {
    let msg = `the server answered ${res.status} ${res.statusText}`.trim();
    try {
      const j = await res.json();
      if (j && j.error) msg = j.error;
    } catch (e) { /* not JSON: keep the status line */ }
    const retry = res.headers.get('Retry-After');
    return new Error(retry ? `${msg} (try again in ${retry} s)` : msg);
  }

  /* fetch, with a failure to connect turned into a line a user can act on. */
  async function request(url, init) {
    try {
      return await fetch(url, init);
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new Error(`cannot reach herd serve (${e.message}); is it still running?`);
    }
  }

  /* POST @s to @path (the run's JSON body, as both run endpoints take it). */
  function postTo(path, s, signal, headers) {
    return request(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(postBody(s)),
      signal,
    });
  }

  async function postRun(s, signal) {
    const res = await postTo('/api/run', s, signal, {});
    if (!res.ok) throw await errorOf(res);
    const data = parseJson(await res.text());
    if (!data) throw new Error('the server sent a report that is not JSON');
    return data;
  }

  /* Server-Sent Events read from a fetch body, as {name, data}. fetch rather than EventSource:
   * it can POST (EventSource only GETs, and a GET must not start a run: any page can make a
   * browser send one), so the stream is one request whose end stops the run, with no token to
   * hand out and expire between a POST and a GET; it can be aborted, it shows a refusal's
   * status and JSON reason, and it never reconnects by itself (a reconnect would start the run
   * again). Lines end in \n or \r\n. */
  async function* sseEvents(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    try {
      for (;;) {
        let chunk;
        try {
          chunk = await reader.read();
        } catch (e) {
          if (e.name === 'AbortError') throw e;
          throw new Error('the connection to the server was lost during the run');
        }
        if (chunk.done) return;
        buf = (buf + chunk.value).replace(/\r\n/g, '\n');
        for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
          const ev = parseSse(buf.slice(0, end));
          buf = buf.slice(end + 2);
          if (ev) yield ev;
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  function parseSse(block) {
    let name = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue; /* a comment: a keep-alive */
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
    }
    return data.length ? { name, data: data.join('\n') } : null;
  }

  function parseJson(text) {
    try {
      return JSON.parse(text);
    } catch (e) {
      return null;
    }
  }

  /* The report of one run off the stream: progress events go to @onProgress, an error event
   * is thrown as its message. */
  async function streamRun(res, onProgress) {
    for await (const ev of sseEvents(res.body)) {
      const d = parseJson(ev.data);
      if (ev.name === 'progress' && d) {
        onProgress(d);
      } else if (ev.name === 'report') {
        if (!d) throw new Error('the server sent a report that is not JSON');
        return d;
      } else if (ev.name === 'error') {
        throw new Error((d && d.error) || ev.data);
      }
    }
    throw new Error('the connection to the server was lost during the run');
  }

  /* The report of @s: over the stream, with progress, when the server has one; else by POST
   * (a server without the stream, a proxy that will not pass it). A refusal (4xx, 5xx with a
   * reason) is the answer, not a cause to try POST: it would be refused the same way. */
  async function fetchReport(s, signal, onProgress) {
    /* An older server's stream took fewer repeats than POST: more go by POST there. */
    if (s.runs && Number(s.runs) > runsInfo().stream_max) return postRun(s, signal);
    let res;
    try {
      res = await postTo('/api/run/stream', s, signal, { Accept: 'text/event-stream' });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      return postRun(s, signal);
    }
    const isStream = (res.headers.get('Content-Type') || '').startsWith('text/event-stream');
    if (res.ok && isStream) return streamRun(res, onProgress);
    if (res.ok || [404, 405, 501].includes(res.status)) return postRun(s, signal);
    throw await errorOf(res);
  }

  /* "2,621,440 events simulated · 1.23 s of simulated time · 1.4 s so far". herd serve sends
   * "started" and "done", and may send "running" in between: with the simulator's event count
   * and clock (sim), or the trigger events done of all (live). Whatever it sends, the time
   * waited so far shows that a long run is alive. */
  function progressText(d, ms) {
    const parts = [];
    if (d && d.phase === 'running') {
      /* live runs carry events = sim_ns = 0: only the simulator counts engine events */
      if (d.backend !== 'live' && d.sim_ns != null && d.events > 0) parts.push(`${plural(d.events, 'event')} simulated`, `${fmtNs(d.sim_ns)} of simulated time`);
      else if (d.of > 0 && d.done > 0) parts.push(`event ${fmtInt(d.done)} of ${fmtInt(d.of)}`);
      /* run I of R counts every repeat of every mode; with two modes, say whose it is */
      if (d.runs > 1 && d.run > 0) {
        parts.push(`run ${fmtInt(d.run)} of ${fmtInt(d.runs)}` +
                   (d.repeats > 0 && d.runs > d.repeats && d.mode ? ` (${d.mode})` : ''));
      }
    }
    parts.push(`${(ms / 1000).toFixed(1)} s so far`);
    return parts.join(' · ');
  }

  /* The progress line of run @r, once it has run PROGRESS_AFTER_MS, or at once when the server
   * says it is still running (it says so only of long runs). */
  function paintProgress(r) {
    const ms = performance.now() - r.t0;
    const d = r.progress;
    if (page.inflight !== r || (ms < PROGRESS_AFTER_MS && !(d && d.phase === 'running'))) return;
    const bar = $('progress');
    if (d && d.phase === 'running' && d.of > 0 && d.done > 0) { /* done: the events of the runs finished */
      bar.max = d.of;
      bar.value = d.done;
    } else {
      bar.removeAttribute('value'); /* indeterminate: nothing says how far along it is */
    }
    $('progress-text').textContent = progressText(d, ms);
    $('progress-box').hidden = false;
  }

  function setBusy(busy) {
    $('controls').classList.toggle('busy', busy);
    $('herd').setAttribute('aria-busy', String(busy));
    if (!busy) $('progress-box').hidden = true;
  }

  /* Stop waiting for the run in flight, if any; its answer, should one come, is dropped. */
  function cancelRun() {
    const r = page.inflight;
    if (!r) return;
    page.seq += 1;
    r.abort.abort();
    endRun(r);
  }

  function endRun(r) {
    clearInterval(r.ticker);
    if (page.inflight === r) {
      page.inflight = null;
      setBusy(false);
    }
  }

  async function run(s, push) {
    cancelRun(); /* even when @s is refused: the page must not go on to show an older run */
    const problem = checkSettings(s);
    if (problem) {
      setStatus(problem, true);
      return;
    }
    if (push) pushRunUrl(s);
    const r = { seq: ++page.seq, abort: new AbortController(), t0: performance.now(), progress: null };
    r.ticker = setInterval(() => paintProgress(r), PROGRESS_AFTER_MS);
    page.inflight = r;
    setBusy(true);
    const file = isFile(page.byName[s.scenario]);
    setStatus(file ? `running ${s.scenario}${s.mode === 'both' ? ` naive and ${s.mitigation}` : ''} on sim …`
      : `running ${s.scenario} ${s.mode} on ${s.backend}, N = ${fmtInt(Number(s.n))} …`);
    let data;
    try {
      data = await fetchReport(s, r.abort.signal, (d) => {
        r.progress = d;
        paintProgress(r);
      });
    } catch (e) {
      if (r.seq !== page.seq) return; /* superseded: the newer run owns the page */
      endRun(r);
      setStatus(e.message || String(e), true);
      return;
    }
    if (r.seq !== page.seq) return;
    endRun(r);
    r.tFetched = performance.now();
    const report = data && data.runs && data.runs[0];
    if (!report) {
      setStatus('the server answered without a report', true);
      return;
    }
    if (file && report.fleet) {
      fleet.show(data.runs, s, r);
      return;
    }
    render(report, s, r);
  }

  /* ---------------------------------------------------------------------- drawing -- */
  function render(report, s, r) {
    const mode = modeOf(report);
    for (const m of MODES) if (page.kept[m] && !comparable(page.kept[m].settings, s)) page.kept[m] = null;
    page.kept[mode] = { report, settings: s };
    page.last = { report, settings: s };
    page.pending = { t0: r.t0, tFetched: r.tFetched, left: 2 };
    renderCounters(report);
    renderGrid(report);
    renderMachine();
    renderBars();
    renderSeriesChoice();
    drawTimeline();
    drawLatency();
    fillDl($('extras').querySelector('dl'), extraRows(report));
    $('extras').hidden = false;
    const simTime = report.sim_time_ns ? `, simulated ${fmtNs(report.sim_time_ns)}` : '';
    const runs = report.runs > 1 ? `, ${plural(report.runs, 'run')} pooled` : '';
    const untrusted = report.machine && report.machine.trusted === false ? ' (figures untrusted: see the warning)' : '';
    setStatus(`${report.scenario} ${runLabel(report)} on ${report.backend}, N = ${fmtInt(report.n)}, ` +
              `${plural(report.events, 'event')}${runs}, seed ${s.seed}: done in ` +
              `${fmtInt(performance.now() - r.t0)} ms${simTime}${untrusted}`, false,
              `: wakes ${fmtInt(report.wakes)}, useful ${fmtInt(report.useful)}, ` +
              `wasted ${fmtInt(report.wasted)}, origin load ${fmtInt(report.origin_load)}, ` +
              `served ${fmtInt(report.served)}, failed ${fmtInt(report.failed)}`);
    page.runs += 1;
    document.body.dataset.runs = String(page.runs);
  }

  /* Back to no run at all, as a fresh load of the bare page shows it. */
  function clearResults() {
    page.kept = { naive: null, mitigated: null };
    page.last = null;
    for (const [id] of COUNTERS) {
      $(`c-${id}`).textContent = '—';
      $(`c-${id}`).dataset.value = '';
      $(`pe-${id}`).textContent = '';
    }
    renderMachine();
    renderBars();
    renderSeriesChoice();
    drawTimeline();
    drawLatency();
    $('extras').hidden = true;
    setStatus('');
  }

  /* uPlot calls this after each draw; the second draw of a render ends its perf entry. */
  function chartDrawn() {
    const p = page.pending;
    if (!p || --p.left > 0) return;
    page.pending = null;
    const now = performance.now();
    page.perf.push(now - p.t0);
    page.perfDetail.push({ fetch: p.tFetched - p.t0, render: now - p.tFetched });
  }

  function renderCounters(r) {
    const pe = r.per_event || {};
    for (const [id, key] of COUNTERS) {
      $(`c-${id}`).textContent = fmtInt(r[key]);
      $(`c-${id}`).dataset.value = r[key] == null ? '' : String(r[key]);
      $(`pe-${id}`).textContent = pe[key] == null ? '' : `${fmtNum(pe[key])} per event`;
    }
  }

  /* One waiter; @flip >= 0 animates it, staggered by its place in the grid. */
  function tile(state, title, flip) {
    const t = h('span', { className: `tile s-${state}`, textContent: SYM[state] || '?' });
    t.dataset.state = state;
    if (title) t.title = title;
    if (flip >= 0) {
      t.classList.add('flip');
      t.style.animationDelay = `${Math.round(flip * 1.2)}ms`;
    }
    return t;
  }

  /* @titles[i], when given, is tile i's tooltip (else "worker 3: idle"). */
  function fillGrid(states, nounName, animate, titles) {
    const frag = document.createDocumentFragment();
    states.forEach((st, i) => frag.append(tile(st, titles ? titles[i] : `${nounName} ${i + 1}: ${st}`,
                                               animate ? i : -1)));
    $('grid').replaceChildren(frag);
  }

  /* Before the first run the grid shows the waiters of the form's N asleep (a scenario whose
   * waiters are the requests that arrive has none to show before it runs). */
  function drawIdleGrid(scenario, n) {
    const nn = nounOf(scenario);
    if (!nIsPopulation(scenario)) {
      $('grid').replaceChildren();
      $('grid').setAttribute('aria-label', 'no run yet');
      $('grid-count').textContent = `— press Trigger to fire the event; the first ${fmtInt(MAX_GRID)} ` +
        `${pluralOf(nn)} to arrive will be drawn —`;
      return;
    }
    if (!Number.isInteger(n) || n < 1) return;
    const shown = Math.min(n, MAX_GRID);
    fillGrid(new Array(shown).fill('idle'), nn, false);
    $('grid').setAttribute('aria-label', `${plural(shown, nn)} asleep; no run yet`);
    $('grid-count').textContent = `— press Trigger to fire the event; ${fmtInt(shown)} of ${plural(n, nn)} ` +
      `will be drawn —`;
  }

  /* Waiter @i's reactions per class, from waiter_counts (in the order of the report's
   * outcomes): "useful 1, wasted 49", the classes in the glossary's order, zeros left out. */
  function countsText(r, i) {
    const row = r.waiter_counts && r.waiter_counts[i];
    if (!Array.isArray(row) || !Array.isArray(r.outcomes)) return '';
    const by = {};
    r.outcomes.forEach((name, j) => { by[name] = row[j] || 0; });
    return CLASSES.filter((c) => by[c.name] > 0).map((c) => `${c.name} ${fmtInt(by[c.name])}`).join(', ');
  }

  function renderGrid(r) {
    const waiters = (r.waiters || []).slice(0, MAX_GRID);
    const nn = nounOf(r.scenario);
    const titles = waiters.map((st, i) => {
      const c = countsText(r, i);
      return `${nn} ${i + 1}: ${st}${c ? ` — ${c}` : ''}`;
    });
    fillGrid(waiters, nn, !reducedMotion.matches, titles);
    const counts = {};
    for (const w of waiters) counts[w] = (counts[w] || 0) + 1;
    const summary = CLASSES.filter((c) => counts[c.name]).map((c) => `${fmtInt(counts[c.name])} ${c.name}`).join(', ');
    /* population: the run's waiters (N, or the requests that arrived); an older report lacks it */
    const population = r.population != null ? r.population : r.n;
    $('grid').setAttribute('aria-label', `first ${plural(waiters.length, nn)} of ${fmtInt(population)}: ${summary}`);
    $('grid-count').textContent = `showing ${fmtInt(waiters.length)} of ${plural(population, nn)}` +
      (summary ? ` — ${summary}` : '');
  }

  /* The classes, each with its tile and its meaning (the server's words once it has said them). */
  function buildLegend() {
    const docs = {};
    for (const o of (page.catalogue && page.catalogue.outcomes) || []) docs[o.name] = o.doc;
    $('legend').replaceChildren(...CLASSES.map((c) => {
      const t = tile(c.name, '', -1);
      t.setAttribute('aria-hidden', 'true');
      const li = h('li', {}, t, h('span', {}, h('b', { textContent: c.name }), `: ${docs[c.name] || c.doc}`));
      li.dataset.class = c.name;
      return li;
    }));
  }

  /* The machine each shown run was measured on: a warning for every kept run the server did
   * not trust, and one line of machine figures and provenance for the last run. */
  function renderMachine() {
    const warn = $('machine-warn');
    const lines = [];
    for (const m of MODES) {
      const k = page.kept[m];
      const mc = k && k.report.machine;
      if (mc && mc.trusted === false) {
        const first = (mc.warnings && mc.warnings[0]) || 'the server did not say why';
        lines.push(`The ${m} run's figures are untrusted: ${first}.`);
      }
    }
    warn.textContent = lines.length
      ? `Warning: ${lines.join(' ')} Close what else is running and trigger again, or read them as rough.` : '';
    warn.hidden = lines.length === 0;
    const line = $('machine');
    const r = page.last && page.last.report;
    if (!r) {
      line.textContent = '';
      delete line.dataset.trusted;
      return;
    }
    const mc = r.machine || {};
    const pv = r.provenance || {};
    const parts = [];
    if (mc.others_cpu != null) {
      parts.push(`others used ${fmtPct(mc.others_cpu)} of ${plural(mc.cpus || 0, 'CPU')}`);
      if (mc.steal > 0) parts.push(`steal ${fmtPct(mc.steal)}`);
    }
    parts.push(plural(r.runs || 1, 'run') + ((r.runs || 1) > 1 ? ' pooled' : ''));
    if (r.backend === 'sim') parts.push('a simulation\'s figures do not depend on the machine');
    else if (mc.trusted != null) parts.push(mc.trusted ? 'trusted' : 'untrusted');
    const prov = [];
    if (pv.herd_version) prov.push(`herd ${pv.herd_version}`);
    if (pv.start) prov.push(`started ${fmtStart(pv.start)}`);
    if (pv.wall_ns != null) prov.push(`wall time ${fmtNs(pv.wall_ns)}`);
    if (r.backend === 'sim' && r.sim_time_ns != null) prov.push(`simulated time ${fmtNs(r.sim_time_ns)}`);
    if (pv.profile && pv.profile.path) prov.push(`profile ${pv.profile.path}`);
    line.textContent = `Machine (last run): ${parts.join(', ')}. ` + (prov.length ? `Provenance: ${prov.join(' · ')}.` : '');
    line.dataset.trusted = String(mc.trusted !== false);
  }

  function renderBars() {
    const ivs = {};
    for (const m of MODES) if (page.kept[m]) ivs[m] = intervalOf(page.kept[m].report, 'p99');
    /* The scale: the largest point or finite upper bound of either bar. */
    const max = Math.max(0, ...Object.values(ivs).flatMap((iv) => [iv.point, iv.hi]).filter((v) => v != null && isFinite(v)));
    const pct = (v) => (max > 0 ? Math.min(100, (100 * v) / max) : 0);
    for (const m of MODES) {
      const row = $(`p99-${m}`);
      const k = page.kept[m];
      const iv = ivs[m];
      const v = k ? k.report.latency_ns.p99 : null;
      const other = page.kept[m === 'naive' ? 'mitigated' : 'naive'];
      const diff = k && other ? differences(k.settings, other.settings) : [];
      row.dataset.ns = k ? String(v) : '';
      row.dataset.lo = iv && iv.lo != null ? String(iv.lo) : '';
      row.dataset.hi = iv && iv.hi != null ? String(iv.hi) : '';
      row.dataset.enough = iv ? String(iv.enough && iv.hi != null) : '';
      /* A p99 far below the other still gets a visible sliver: zero width would read "none". */
      row.querySelector('.bar-fill').style.width = k && max > 0 ? `${Math.max(v > 0 ? 0.6 : 0, pct(v))}%` : '0';
      row.querySelector('.bar-v').textContent = k ? fmtNs(v) + (iv && iv.hi == null && !iv.missing ? ' *' : '') : '—';
      let ci = row.querySelector('.bar-ci');
      if (!ci) {
        ci = h('span', { className: 'bar-ci', 'aria-hidden': 'true' });
        row.querySelector('.bar-track').append(ci);
      }
      const showCi = !!(iv && !iv.missing && max > 0);
      ci.classList.toggle('shown', showCi);
      if (showCi) {
        const lo = pct(loOf(iv));
        const hi = iv.hi == null ? 100 : pct(iv.hi);
        ci.style.left = `${lo}%`;
        ci.style.width = `${Math.max(0, hi - lo)}%`;
        ci.classList.toggle('open-hi', iv.hi == null);
        ci.classList.toggle('open-lo', iv.lo == null);
      }
      const int = row.querySelector('.bar-int');
      if (!iv) {
        int.replaceChildren();
      } else {
        const t = intervalText(iv, 'p99');
        int.replaceChildren(t.range, ...(t.few ? [' · ', h('span', { className: 'open', textContent: t.few })] : []));
      }
      const note = row.querySelector('.bar-note');
      const who = k && !nIsPopulation(k.report.scenario)
        ? `${plural(k.report.population, nounOf(k.report.scenario))}` : k ? `N = ${fmtInt(k.report.n)}` : '';
      note.textContent = !k ? `no ${m} run of this scenario, backend and N yet`
        : `${m === 'mitigated' ? k.report.mitigation : k.report.strategy || 'naive'} · ${k.report.backend} · ` +
          `${who} · ${plural(k.report.events, 'event')}` +
          ((k.report.runs || 1) > 1 ? ` · ${plural(k.report.runs, 'run')}` : '') + ` · seed ${k.settings.seed}` +
          (k.report.machine && k.report.machine.trusted === false ? ' · untrusted machine' : '') +
          (diff.length ? ` — unlike the other bar: ${diff.join(', ')}` : '');
      note.classList.toggle('warn', diff.length > 0 || !!(k && k.report.machine && k.report.machine.trusted === false));
    }
    const ratio = $('p99-ratio');
    if (ivs.naive && ivs.mitigated) {
      const c = compareP99(ivs.naive, ivs.mitigated);
      ratio.dataset.verdict = c.verdict;
      ratio.replaceChildren(`naive ÷ mitigated p99: ${c.text}`, ' ', h('span', { className: 'why', textContent: `(${c.why})` }));
    } else {
      ratio.dataset.verdict = 'none';
      ratio.replaceChildren();
    }
  }

  /* "200 (95 %: 200 – open above)": a per-event median or percentile with its interval. */
  function withInterval(iv, fmt) {
    if (!iv) return null;
    const lo = iv.lo == null ? 'open below' : fmt(iv.lo);
    const hi = iv.hi == null ? 'open above' : fmt(iv.hi);
    return `${fmt(iv.point)} (95 %: ${lo} – ${hi}${iv.enough_samples === false ? `, ${plural(iv.n, 'sample')}: too few` : ''})`;
  }

  function extraRows(r) {
    const rows = [['population', plural(r.population != null ? r.population : r.n, nounOf(r.scenario))],
                  ['idle (waiter-events without a reaction)', fmtInt(r.idle)],
                  ['peak load at the resource', fmtInt(r.peak)],
                  ['latency mean', fmtNs(r.latency_ns.mean)],
                  ['latency samples', fmtInt(r.latency_ns.count)]];
    const iv = r.intervals || {};
    for (const [key, label] of [['p50', 'p50'], ['p90', 'p90'], ['p99', 'p99'], ['p999', 'p99.9']]) {
      const t = withInterval(iv.latency_ns && iv.latency_ns[key], fmtNs);
      if (t) rows.push([`latency ${label}`, t]);
    }
    for (const key of ['wakes', 'useful', 'served', 'wasted', 'failed', 'origin_load']) {
      const t = withInterval(iv.per_event_median && iv.per_event_median[key], fmtNum);
      if (t) rows.push([`${key.replace(/_/g, ' ')} per event (median)`, t]);
    }
    if (r.over_runs && r.over_runs.mean && r.over_runs.stddev) {
      const mean = r.over_runs.mean;
      const sd = r.over_runs.stddev;
      rows.push([`p99 over the ${plural(r.runs, 'run')} (mean ± sd)`,
                 `${fmtNs(mean.latency_ns && mean.latency_ns.p99)} ± ${fmtNs(sd.latency_ns && sd.latency_ns.p99)}`],
                [`wakes over the ${plural(r.runs, 'run')} (mean ± sd)`, `${fmtNum(mean.wakes)} ± ${fmtNum(sd.wakes)}`]);
    }
    if (r.spread) {
      rows.push(['workers that got work', `${fmtInt(r.spread.workers_used)} of ${fmtInt(r.spread.workers)}`],
                ['largest share of the work', `${fmtNum(100 * r.spread.max_share)} %`]);
    }
    for (const [k, v] of Object.entries(r.extra || {})) rows.push([k.replace(/_/g, ' '), fmtNum(v)]);
    const pv = r.provenance;
    if (pv) {
      rows.push(['kernel', pv.kernel || '—'], ['CPU', `${pv.cpu_model || '—'} (${plural(pv.cpus || 0, 'CPU')})`],
                ['request', pv.command || '—']);
    }
    const mc = r.machine;
    if (mc && Array.isArray(mc.warnings) && mc.warnings.length) rows.push(['machine warnings', mc.warnings.join('; ')]);
    return rows;
  }

  /* ----------------------------------------------------------------------- charts -- */
  function keptRuns() {
    return MODES.filter((m) => page.kept[m]).map((m) => ({ mode: m, report: page.kept[m].report }));
  }

  /* The timeline's series choice: those the kept runs have, keeping the user's pick
   * (dataset.wanted, also from the URL) while it exists. */
  function renderSeriesChoice() {
    const sel = $('tl-series');
    const have = new Set();
    for (const { report } of keptRuns()) {
      for (const [k, v] of Object.entries(report.timeline || {})) if (Array.isArray(v)) have.add(k);
    }
    const names = [...have].sort();
    const prev = sel.dataset.wanted || sel.value;
    sel.replaceChildren(...names.map((nm) => h('option', { value: nm, textContent: nm })));
    sel.value = have.has(prev) ? prev : SERIES_PREFERENCE.find((x) => have.has(x)) || names[0] || '';
    sel.disabled = names.length === 0;
    $('tl-hint').textContent = sel.value
      ? `${SERIES_HELP[sel.value] || sel.value}; both modes on one shared y axis, so a peak of 1,000 ` +
        'and a peak of 1 do not look alike.'
      : 'Both modes on one shared y axis: a peak of 1,000 and a peak of 1 must not look alike.';
  }

  /* Put both runs' series on one bucket width (the coarser one): counts are summed, gauges
   * (in-flight, queue depth) take the maximum, so neither mode is flattered. */
  function rebin(values, bucketNs, target, gauge) {
    if (bucketNs === target) return values.slice();
    const out = new Array(Math.ceil((values.length * bucketNs) / target)).fill(0);
    values.forEach((v, i) => {
      const j = Math.min(out.length - 1, Math.floor((i * bucketNs) / target));
      out[j] = gauge ? Math.max(out[j], v) : out[j] + v;
    });
    return out;
  }

  /* Whole decades around the data, with room at both ends: a series at exactly a power of ten
   * (a mitigated herd's constant 1) must not vanish into the axis. */
  function logRange(u, min, max) {
    if (min == null || max == null || !(max > 0)) return [1, 10];
    const eps = 1e-9;
    const lo = Math.pow(10, Math.ceil(Math.log10(Math.max(min, eps)) - eps) - 1);
    const hi = Math.pow(10, Math.floor(Math.log10(max) + eps) + 1);
    return [lo, hi];
  }

  function chartWidth(el) {
    return Math.max(260, Math.floor(el.clientWidth || el.parentNode.clientWidth || 640));
  }

  /* One line per kept run, in its mode's look. */
  function modeSeries(mode, report, extra) {
    const look = LOOK[mode];
    return { label: runLabel(report), stroke: look.stroke, dash: look.dash, width: 2, ...extra(look) };
  }

  /* Building a uPlot (DOM for axes and legend) costs tens of ms on a slow machine; when the
   * chart's shape is unchanged (same series, labels, scale), new data is only setData(). */
  function drawChart(key, shape, makeOpts, data) {
    const old = page.charts[key];
    if (old && old.herdShape === shape) {
      old.setData(data);
      return;
    }
    if (old) old.destroy();
    const el = $(key);
    const opts = makeOpts(); /* reads the layout (width): only when a chart is built */
    opts.width = chartWidth(el);
    opts.height = CHART_HEIGHT;
    opts.hooks = { draw: [chartDrawn] };
    page.charts[key] = new uPlot(opts, data, el);
    page.charts[key].herdShape = shape;
  }

  function drawTimeline() {
    const name = $('tl-series').value;
    const log = $('tl-log').checked;
    const runs = keptRuns().filter(({ report }) => report.timeline && Array.isArray(report.timeline[name]));
    const bucket = Math.max(1, ...runs.map(({ report }) => report.timeline.bucket_ns));
    const ys = runs.map(({ report }) =>
      rebin(report.timeline[name], report.timeline.bucket_ns, bucket, GAUGES.has(name)));
    const len = Math.max(1, ...ys.map((y) => y.length));
    const x = Array.from({ length: len }, (_, i) => (i * bucket) / 1e6);
    const data = [x, ...ys.map((y) => Array.from({ length: len }, (_, i) => {
      if (i >= y.length) return null;                 /* that run had ended */
      return log && y[i] <= 0 ? null : y[i];          /* log axes have no zero */
    }))];
    const shown = (v) => (v == null ? '—' : fmtNum(v));
    drawChart('timeline', JSON.stringify([name, log, bucket, runs.map(({ report }) => runLabel(report))]), () => ({
      scales: {
        x: { time: false },
        y: log ? { distr: 3, log: 10, range: logRange }
          : { range: (u, min, max) => [0, max > 0 ? max * 1.08 : 1] },
      },
      axes: [
        { label: `ms since the start · bucket ${fmtNs(bucket)}`, labelSize: 22 },
        { label: name, labelSize: 22, size: 60,
          values: (u, vals) => vals.map((v) => (log && !isDecade(v) ? '' : fmtNum(v))) },
      ],
      series: [
        { label: 'ms', value: (u, v) => shown(v) },
        ...runs.map(({ mode, report }) => modeSeries(mode, report, (look) => ({
          fill: look.fill,
          paths: uPlot.paths.stepped({ align: 1 }),
          points: { show: false },
          spanGaps: false,
          value: (u, v) => shown(v),
        }))),
      ],
      cursor: { drag: { x: true, y: false } },
    }), data);
    const el = $('timeline');
    el.dataset.series = String(runs.length);
    el.dataset.modes = runs.map((r) => r.mode).join(',');
    el.setAttribute('aria-label', runs.length === 0 ? 'Load at the resource over time: no run yet'
      : `Load at the resource over time, ${name}${log ? ' on a log scale' : ''}: ` +
        runs.map(({ report }, i) => `${runLabel(report)} peaks at ${fmtNum(Math.max(0, ...ys[i]))}`).join('; '));
  }

  function drawLatency() {
    const runs = keptRuns();
    const x = PCTS.map((_, i) => i);
    const data = [x, ...runs.map(({ report }) => PCTS.map(([k]) => {
      const v = report.latency_ns[k];
      return v > 0 ? v : null;
    }))];
    drawChart('latency', JSON.stringify(runs.map(({ report }) => runLabel(report))), () => ({
      scales: {
        x: { time: false, range: [-0.3, PCTS.length - 0.7] },
        y: { distr: 3, log: 10, range: logRange },
      },
      axes: [
        { splits: () => x, values: (u, vals) => vals.map((v) => (PCTS[v] ? PCTS[v][1] : '')),
          label: 'percentile', labelSize: 22 },
        { label: 'latency from the trigger', labelSize: 22, size: 70,
          values: (u, vals) => vals.map(fmtDecadeNs) },
      ],
      series: [
        { label: 'percentile', value: (u, v) => (v == null || !PCTS[v] ? '—' : PCTS[v][1]) },
        ...runs.map(({ mode, report }) => modeSeries(mode, report, (look) => ({
          points: { show: true, size: 9, fill: look.stroke },
          value: (u, v) => fmtNs(v),
        }))),
      ],
    }), data);
    const el = $('latency');
    el.dataset.series = String(runs.length);
    el.setAttribute('aria-label', runs.length === 0 ? 'Latency percentiles: no run yet'
      : 'Latency percentiles: ' + runs.map(({ report }) =>
        `${runLabel(report)} p50 ${fmtNs(report.latency_ns.p50)}, p99 ${fmtNs(report.latency_ns.p99)}, ` +
        `max ${fmtNs(report.latency_ns.max)}`).join('; '));
  }

  let resizeTimer = 0;
  function onResize() {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const [key, chart] of Object.entries(page.charts)) {
        if (chart) chart.setSize({ width: chartWidth($(key)), height: CHART_HEIGHT });
      }
      fleet.redraw();
    }, 120);
  }

  /* ---------------------------------------------------------------------- editor -- */
  /* The line numbers beside the text, @bad (1-based) marked; scrolled with the text. */
  function paintLines(bad) {
    const n = $('editor-text').value.split('\n').length;
    $('editor-lines').replaceChildren(...Array.from({ length: n }, (_, i) => h('span', {
      className: i + 1 === bad ? 'bad' : '', textContent: `${i + 1}\n` })));
    $('editor-lines').scrollTop = $('editor-text').scrollTop;
  }

  /* Select line @line of the text area (the browser's own highlight), and scroll to it. */
  function markLine(line) {
    const ta = $('editor-text');
    const lines = ta.value.split('\n');
    const start = lines.slice(0, line - 1).reduce((a, l) => a + l.length + 1, 0);
    ta.focus();
    ta.setSelectionRange(start, start + (lines[line - 1] || '').length);
    const lh = parseFloat(getComputedStyle(ta).lineHeight) || 18;
    ta.scrollTop = Math.max(0, (line - 3) * lh);
    paintLines(line);
  }

  function editorStatus(text, isError, line) {
    const st = $('editor-status');
    st.textContent = text;
    st.classList.toggle('error', !!isError);
    if (line) st.dataset.line = String(line);
    else delete st.dataset.line;
  }

  /* POST the text to /api/validate: the row with its topology, or null with the reason shown
   * (its line marked). */
  async function validateEditor() {
    const text = $('editor-text').value;
    editorStatus('validating …');
    let res;
    try {
      res = await request('/api/validate', { method: 'POST', headers: { 'Content-Type': 'text/yaml' }, body: text });
    } catch (e) {
      editorStatus(e.message, true);
      return null;
    }
    const j = parseJson(await res.text());
    if (!res.ok || !j || !j.ok) {
      const msg = (j && j.error) || `the server answered ${res.status}`;
      const line = j && j.line;
      editorStatus(line ? `line ${line}, column ${j.column}: ${msg}` : msg, true, line);
      if (line) markLine(line);
      else paintLines(0);
      return null;
    }
    paintLines(0);
    const row = { ...j, fileName: j.name, name: PASTED, text };
    page.byName[PASTED] = row;
    delete $('params').dataset.scenario; /* a new file under the same entry: rebuild the form */
    buildScenarioPicker();
    editorStatus(`ok: ${j.name}, ${plural(j.topology.components.length, 'component')}, ` +
                 `${plural(j.topology.faults.length, 'fault')}, ${plural(j.mitigations.length, 'mitigation')}; ` +
                 'it is in the picker as "your file"');
    return row;
  }

  function wireEditor() {
    const ta = $('editor-text');
    ta.addEventListener('input', () => paintLines(0));
    ta.addEventListener('scroll', () => { $('editor-lines').scrollTop = ta.scrollTop; });
    $('editor-upload').addEventListener('change', async () => {
      const f = $('editor-upload').files[0];
      if (!f) return;
      if (f.size > 64 * 1024) {
        editorStatus(`${f.name} is ${fmtInt(f.size)} bytes; the server takes at most 65,536`, true);
        return;
      }
      ta.value = await f.text();
      paintLines(0);
      editorStatus(`${f.name} loaded: validate or run it`);
    });
    $('editor-validate').addEventListener('click', () => {
      validateEditor().then((row) => { if (row) pickPasted(false); });
    });
    $('editor-run').addEventListener('click', async () => {
      if (await validateEditor()) pickPasted(true);
    });
    paintLines(0);
  }

  /* Show the pasted file in the form (its drawing, its mitigations) and run it if @go. */
  function pickPasted(go) {
    $('scenario').value = PASTED;
    onScenarioChange();
    if (go) run(settingsFromForm(), false);
  }

  /* ---------------------------------------------------------------------- history -- */
  /* Besides the run, the URL carries two view choices of the timeline: series and log. */
  function viewInto(q) {
    const series = $('tl-series').value;
    if (series) q.set('series', series);
    else q.delete('series');
    if ($('tl-log').checked) q.set('log', '1');
    else q.delete('log');
  }

  function pushRunUrl(s) {
    if (s.scenario === PASTED) return; /* its text is no URL's: the editor keeps it */
    const q = settingsToQuery(s);
    viewInto(q);
    const url = `${location.pathname}?${q}`;
    if (url !== location.pathname + location.search) history.pushState(null, '', url);
  }

  /* A view change edits the current entry: it is not a new run to go Back to. */
  function replaceViewInUrl() {
    if (!location.search) return;
    const q = new URLSearchParams(location.search);
    viewInto(q);
    history.replaceState(history.state, '', `${location.pathname}?${q}`);
  }

  /* Show what the URL says: its run (run again: the server is the only source of figures),
   * or, for the bare page, no run at all. On load and on Back/Forward. */
  function showUrl() {
    const q = new URLSearchParams(location.search);
    $('tl-log').checked = q.get('log') === '1';
    if (q.has('series')) $('tl-series').dataset.wanted = q.get('series');
    else delete $('tl-series').dataset.wanted;
    const name = q.get('scenario');
    if (name && page.byName[name]) {
      const s = settingsFromQuery(q, page.byName[name]);
      settingsToForm(s);
      run(s, false);
      return;
    }
    cancelRun();
    clearResults();
    settingsToForm(scenarioDefaults(page.byName.accept || page.catalogue.scenarios[0]));
    if (name) setStatus(`this link names a scenario this server does not have: ${name}`, true);
  }

  /* ------------------------------------------------------------------------ start -- */
  function onScenarioChange() {
    const s = scenarioDefaults(currentScenario());
    s.backend = checked('backend');
    if (!isFile(currentScenario())) s.mode = checked('mode');
    s.seed = $('seed').value.trim() || s.seed;
    s.runs = $('runs').value.trim();
    settingsToForm(s);
  }

  function wire() {
    $('controls').addEventListener('submit', (ev) => {
      ev.preventDefault();
      run(settingsFromForm(), true);
    });
    $('scenario').addEventListener('change', onScenarioChange);
    for (const el of document.querySelectorAll('input[name=backend]')) {
      el.addEventListener('change', () => {
        buildTryLinks(currentScenario());
        formChanged();
      });
    }
    for (const el of document.querySelectorAll('input[name=mode]')) el.addEventListener('change', formChanged);
    $('mitigation').addEventListener('change', formChanged);
    $('n').addEventListener('input', formChanged);
    $('tl-series').addEventListener('change', () => {
      $('tl-series').dataset.wanted = $('tl-series').value;
      renderSeriesChoice();
      drawTimeline();
      replaceViewInUrl();
    });
    $('tl-log').addEventListener('change', () => {
      drawTimeline();
      replaceViewInUrl();
    });
    $('file-mits').addEventListener('change', formChanged);
    wireEditor();
    window.addEventListener('popstate', showUrl);
    window.addEventListener('resize', onResize);
  }

  async function start() {
    buildLegend();
    try {
      const res = await request('/api/scenarios');
      if (!res.ok) throw await errorOf(res);
      page.catalogue = await res.json();
    } catch (e) {
      setStatus(`cannot load the scenarios: ${e.message}`, true);
      return;
    }
    for (const sc of page.catalogue.scenarios) page.byName[sc.name] = sc;
    buildLegend(); /* now with the server's meaning of each class */
    buildScenarioPicker();
    $('events').max = EVENTS_MAX;
    const ri = runsInfo();
    $('runs').max = ri.max;
    $('runs-hint').textContent = `repeats pooled into one report, 1–${fmtInt(ri.max)}; empty: ` +
      `the server's default (${fmtInt(ri.live_default)} on live; on sim ${fmtInt(ri.sim_default)}, ` +
      `or up to ${fmtInt(ri.sim_auto_max)} when one run gives fewer than ` +
      `${fmtInt(ri.sim_auto_samples)} latency samples)`;
    wire();
    showUrl();
    $('trigger').disabled = false;
    document.body.dataset.ready = '1';
  }

  /* The scenario-file view (fleet.js), with the helpers it shares with this page. */
  const fleet = fleetView({ $, h, fmtNs, fmtInt, fmtNum, fmtPct, plural, modeOf, runLabel, modeSeries, render,
                            setStatus, isFile, page });

  start();
}());
