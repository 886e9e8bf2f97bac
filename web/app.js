/* app.js — herd serve's page: pick a herd, trigger it, see what it cost.
 *
 * Talks to the server's JSON API only: GET /api/scenarios (the catalogue `herd list` prints,
 * plus live_max_n and sim_model per scenario), POST /api/run (one report, exactly
 * `herd run --format json`), and for live runs GET /api/run/stream (Server-Sent Events:
 * progress, then the same report). No model logic lives here: every figure on the page is
 * one the server measured or simulated; the page only draws it.
 *
 * State: every run setting and the seed are in the URL (pushState on Trigger; popstate
 * restores and re-runs), so a link reproduces the run. The last report of each mode is kept
 * for the p99 bars and the two charts, which draw both modes on one shared y scale.
 *
 * Hooks for tests and the benchmark (window.herdPage): `runs` counts finished renders,
 * `last` holds the last report and settings, `perf` lists Trigger → charts-drawn times (ms).
 */
'use strict';

(function () {
  const STATES = [
    { name: 'idle', sym: '·', text: 'idle: slept through it' },
    { name: 'woken', sym: '○', text: 'woken: served a result it did not fetch' },
    { name: 'useful', sym: '✓', text: 'useful: did the work' },
    { name: 'wasted', sym: '✗', text: 'wasted: woke, lost the race' },
    { name: 'stale', sym: '~', text: 'stale: served an old value' },
    { name: 'failed', sym: '!', text: 'failed: got an error' },
    { name: 'timed-out', sym: '◷', text: 'timed out: gave up' },
  ];
  const SYM = Object.fromEntries(STATES.map((s) => [s.name, s.sym]));
  const PCTS = [['p50', 'p50'], ['p90', 'p90'], ['p99', 'p99'], ['p999', 'p99.9'], ['max', 'max']];
  const MODES = ['naive', 'mitigated'];
  const COLOR = { naive: '#d55e00', mitigated: '#0072b2' }; /* Okabe–Ito vermillion, blue */
  const DASH = { naive: [], mitigated: [6, 4] };            /* not colour alone */
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
  const MAX_GRID = 240;

  /* ---------------------------------------------------------------- scenario texts -- */
  /* Written for this page; each `try` entry is a preset the link loads and runs. */
  const TEXT = {
    accept: {
      looking: [
        'Each tile is one worker — a thread or a process — asleep on the same listening ' +
        'socket. Only the first 240 are drawn; the counters always cover all N.',
        'A connection arrives. Green ✓ is the worker that accepted it; vermillion ✗ woke, ' +
        'found the connection already taken and went back to sleep; grey · slept on. ' +
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
        'One thread takes the item (✓). Under broadcast, every other thread wakes too, takes ' +
        'the mutex, finds the queue empty and waits again (✗). Origin load is mutex ' +
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
        'expires. ✗ missed and queried the origin database itself; ○ was handed the result ' +
        'another request fetched; ~ was served the old value while one refresh ran.',
        'Origin load counts the queries that actually reached the database — the thing the ' +
        'cache was there to protect.',
      ],
      notice: [
        'Naive, every miss is its own origin query: origin load is N per expiry, the queries ' +
        'queue behind each other and the whole herd waits as long as the slowest one. Push N ' +
        'up and watch p99 climb much faster than N.',
        'Singleflight sends one query per expiry; the others still wait (that is their wake) ' +
        'but the database sees one. Stale-while-revalidate and XFetch spare everyone the ' +
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
        'calls the same backend. ✓ found a free backend worker; ✗ had to queue behind the ' +
        'others; ◷ gave up before it was served.',
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
        'to try again after a backoff.',
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
    seq: 0,               /* run counter: a late answer to a superseded run is dropped */
    charts: { timeline: null, latency: null },
    runs: 0,
    last: null,
    perf: [],
    perfDetail: [],       /* {fetch, render} ms: where the time of each perf entry went */
    tFetched: 0,
    pending: null,        /* {seq, t0, left} until both charts have drawn */
    stream: null,
  };
  window.herdPage = page;

  const $ = (id) => document.getElementById(id);
  const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)');
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

  /* -------------------------------------------------------------------- settings -- */
  /* A settings object: {scenario, backend, mode, mitigation, n, events, seed, params{}},
   * numbers kept as the strings the user typed until they are sent. */
  function scenarioDefaults(sc) {
    const params = {};
    for (const p of sc.params) params[p.key] = String(p.default);
    return {
      scenario: sc.name,
      backend: 'sim',
      mode: 'naive',
      mitigation: sc.default_mitigation || (sc.mitigations[0] && sc.mitigations[0].name) || '',
      n: String(sc.n_default),
      events: String(sc.events_default),
      seed: '1',
      params,
    };
  }

  function settingsFromQuery(search) {
    const q = new URLSearchParams(search);
    const name = q.get('scenario');
    if (!name || !page.byName[name]) return null;
    const sc = page.byName[name];
    const s = scenarioDefaults(sc);
    for (const k of ['backend', 'mode', 'mitigation', 'n', 'events', 'seed']) {
      if (q.has(k)) s[k] = q.get(k);
    }
    for (const [k, v] of q) {
      if (k.startsWith('p.') && sc.params.some((p) => p.key === k.slice(2))) s.params[k.slice(2)] = v;
    }
    return s;
  }

  function settingsToQuery(s) {
    const q = new URLSearchParams();
    q.set('scenario', s.scenario);
    q.set('backend', s.backend);
    q.set('mode', s.mode);
    q.set('mitigation', s.mitigation);
    q.set('n', s.n);
    q.set('events', s.events);
    q.set('seed', s.seed);
    for (const k of Object.keys(s.params)) q.set(`p.${k}`, s.params[k]);
    return q;
  }

  /* The URL also carries two view choices (not run settings): series and log. */
  function currentUrl(s) {
    const q = settingsToQuery(s);
    const series = $('tl-series').value;
    if (series) q.set('series', series);
    if ($('tl-log').checked) q.set('log', '1');
    return `${location.pathname}?${q.toString()}`;
  }

  function settingsFromForm() {
    const sc = page.byName[$('scenario').value];
    const params = {};
    for (const p of sc.params) {
      const el = $(`p-${p.key}`);
      params[p.key] = el ? el.value.trim() : String(p.default);
    }
    return {
      scenario: sc.name,
      backend: document.querySelector('input[name=backend]:checked').value,
      mode: document.querySelector('input[name=mode]:checked').value,
      mitigation: $('mitigation').value,
      n: $('n').value.trim(),
      events: $('events').value.trim(),
      seed: $('seed').value.trim(),
      params,
    };
  }

  /* Put @s into the form (rebuilding the scenario-specific parts when the scenario changes). */
  function settingsToForm(s) {
    if ($('scenario').value !== s.scenario || !$('params').dataset.scenario ||
        $('params').dataset.scenario !== s.scenario) {
      $('scenario').value = s.scenario;
      buildScenario(page.byName[s.scenario]);
    }
    const setRadio = (name, v) => {
      const el = document.querySelector(`input[name=${name}][value="${CSS.escape(v)}"]`);
      if (el && !el.disabled) el.checked = true;
    };
    setRadio('backend', s.backend);
    setRadio('mode', s.mode);
    if ([...$('mitigation').options].some((o) => o.value === s.mitigation)) $('mitigation').value = s.mitigation;
    $('n').value = s.n;
    $('events').value = s.events;
    $('seed').value = s.seed;
    for (const [k, v] of Object.entries(s.params)) {
      const el = $(`p-${k}`);
      if (el) el.value = v;
    }
    updateLimits();
    updateMitigationHelp();
  }

  /* The request body POST /api/run takes; numbers as numbers, choices as strings. */
  function requestBody(s) {
    const sc = page.byName[s.scenario];
    const num = (v) => (v !== '' && isFinite(Number(v)) ? Number(v) : v);
    const params = {};
    for (const p of sc.params) {
      const v = s.params[p.key];
      if (v === undefined || v === '') continue;
      params[p.key] = p.type === 'enum' ? v : num(v);
    }
    const body = { scenario: s.scenario, backend: s.backend, mode: s.mode, n: num(s.n),
                   events: num(s.events), seed: num(s.seed), params };
    if (s.mode === 'mitigated') body.mitigation = s.mitigation;
    return body;
  }

  /* A quick check before asking the server (which checks everything again, as the CLI does):
   * returns a one-line reason or null. */
  function checkSettings(s) {
    const sc = page.byName[s.scenario];
    const intIn = (v, lo, hi) => /^\d+$/.test(v) && Number(v) >= lo && Number(v) <= hi;
    const nMax = maxN(sc, s.backend);
    if (!intIn(s.n, 1, nMax)) {
      return s.backend === 'live'
        ? `N must be an integer from 1 to ${fmtInt(nMax)} on live (this machine's limit)`
        : `N must be an integer from 1 to ${fmtInt(nMax)}`;
    }
    if (!intIn(s.events, 1, 100000)) return 'events must be an integer from 1 to 100,000';
    if (!/^\d+$/.test(s.seed)) return 'seed must be a non-negative integer';
    if (!sc.backends.includes(s.backend)) return `${sc.name} has no ${s.backend} backend`;
    return null;
  }

  function maxN(sc, backend) {
    const nMax = sc.n_max || 1000000;
    if (backend === 'live') return Math.max(0, Math.min(nMax, sc.live_max_n || 0));
    return nMax;
  }

  /* -------------------------------------------------------------- building the form -- */
  function buildScenarioPicker() {
    const sel = $('scenario');
    sel.replaceChildren();
    for (const sc of page.catalogue.scenarios) {
      const o = document.createElement('option');
      o.value = sc.name;
      o.textContent = `${sc.name} — ${sc.summary}`;
      sel.append(o);
    }
  }

  function buildScenario(sc) {
    const mit = $('mitigation');
    mit.replaceChildren();
    for (const m of sc.mitigations) {
      const o = document.createElement('option');
      o.value = m.name;
      o.textContent = `${m.name} (${m.family})`;
      mit.append(o);
    }
    mit.value = sc.default_mitigation;

    const box = $('params');
    box.replaceChildren();
    box.dataset.scenario = sc.name;
    for (const p of sc.params) {
      const label = document.createElement('label');
      label.htmlFor = `p-${p.key}`;
      label.textContent = p.unit && p.unit !== p.key ? `${p.key} (${p.unit})` : p.key;
      let input;
      if (p.type === 'enum') {
        input = document.createElement('select');
        for (const c of p.choices) {
          const o = document.createElement('option');
          o.value = c;
          o.textContent = c;
          input.append(o);
        }
      } else {
        input = document.createElement('input');
        input.type = 'number';
        input.min = p.min;
        input.max = p.max;
        input.step = p.type === 'int' ? '1' : 'any';
      }
      input.id = `p-${p.key}`;
      input.name = `p.${p.key}`;
      input.value = String(p.default);
      const hint = document.createElement('span');
      hint.className = 'hint';
      hint.id = `p-${p.key}-hint`;
      hint.textContent = p.type === 'enum' ? p.help
        : `${p.help} (${fmtNum(p.min)}–${fmtNum(p.max)}, default ${fmtNum(p.default)})`;
      input.setAttribute('aria-describedby', hint.id);
      box.append(label, input, hint);
    }

    const live = $('backend-live');
    const hasLive = sc.backends.includes('live') && (sc.live_max_n || 0) > 0;
    live.disabled = !hasLive;
    if (!hasLive && live.checked) document.querySelector('input[name=backend][value=sim]').checked = true;
    $('backend-hint').textContent = !sc.backends.includes('live') ? '(simulated only)'
      : hasLive ? '' : '(no live backend on this machine)';
    const simEl = document.querySelector('input[name=backend][value=sim]');
    simEl.disabled = !sc.backends.includes('sim');

    $('noun-label').textContent = `${sc.waiter_noun || 'waiter'}s`;
    const meta = $('meta');
    meta.replaceChildren();
    for (const [k, v] of [['trigger', sc.trigger], ['waiters', sc.waiters], ['resource', sc.resource],
                          ['naive', `${sc.naive}: ${sc.naive_help}`]]) {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      meta.append(dt, dd);
    }
    buildTexts(sc);
  }

  function paragraphs(el, list) {
    el.replaceChildren(...list.map((t) => {
      const p = document.createElement('p');
      p.textContent = t;
      return p;
    }));
  }

  function buildTexts(sc) {
    const t = TEXT[sc.name] || {
      looking: [`${sc.summary}. Each tile is one of the N ${sc.waiter_noun || 'waiter'}s.`],
      notice: ['Trigger it naive, then mitigated, and compare the counters and the p99 bars.'],
      try: [],
    };
    paragraphs($('looking'), t.looking);
    paragraphs($('notice'), t.notice);
    const ul = $('try');
    ul.replaceChildren();
    for (const preset of t.try) {
      const s = scenarioDefaults(sc);
      for (const [k, v] of Object.entries(preset.set)) {
        if (k.startsWith('p.')) s.params[k.slice(2)] = String(v);
        else s[k] = String(v);
      }
      if (s.backend === 'live' && !(sc.live_max_n > 0)) s.backend = 'sim';
      const a = document.createElement('a');
      a.href = `?${settingsToQuery(s).toString()}`;
      a.textContent = preset.label;
      a.addEventListener('click', (ev) => {
        if (ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
        ev.preventDefault();
        settingsToForm(s);
        trigger();
      });
      const li = document.createElement('li');
      li.append(a);
      ul.append(li);
    }
  }

  function updateLimits() {
    const sc = page.byName[$('scenario').value];
    const backend = document.querySelector('input[name=backend]:checked').value;
    const hi = maxN(sc, backend);
    $('n').max = hi;
    $('n-hint').textContent = backend === 'live'
      ? `1–${fmtInt(hi)} on live (this machine)` : `1–${fmtInt(hi)} on sim`;
    const s = settingsFromForm();
    drawIdleGrid(s);
  }

  function updateMitigationHelp() {
    const sc = page.byName[$('scenario').value];
    const m = sc.mitigations.find((x) => x.name === $('mitigation').value);
    const mode = document.querySelector('input[name=mode]:checked').value;
    $('mitigation-help').textContent = m
      ? `${mode === 'naive' ? 'Next mitigated run' : 'Mitigation'}: ${m.name} — ${m.help}` : '';
  }

  /* ---------------------------------------------------------------------- running -- */
  function setStatus(text, isError) {
    const st = $('status');
    st.textContent = text;
    st.classList.toggle('error', !!isError);
  }

  function setBusy(busy) {
    $('trigger').setAttribute('aria-busy', busy ? 'true' : 'false');
    $('progress').hidden = !busy;
    if (busy) $('progress').removeAttribute('value');
  }

  async function errorOf(res) {
    let msg = `${res.status} ${res.statusText}`;
    try {
      const j = await res.json();
      if (j && j.error) msg = j.error;
    } catch (e) { /* not JSON: keep the status line */ }
    if (res.status === 409) {
      const ra = res.headers.get('Retry-After');
      msg += ra ? ` (another live run is going; try again in ${ra} s)` : ' (another live run is going)';
    }
    return new Error(msg);
  }

  async function postRun(s) {
    const res = await fetch('/api/run', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(requestBody(s)),
    });
    if (!res.ok) throw await errorOf(res);
    return res.json();
  }

  /* Live runs can take seconds: use the SSE stream for progress. If the stream fails before
   * saying anything (an old server, a 4xx the EventSource cannot read), fall back to POST,
   * which also gives the server's reason for a refusal. A stream that fails after it started
   * is not retried: the run may have happened. */
  function streamRun(s) {
    const body = requestBody(s);
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(body)) if (k !== 'params') q.set(k, String(v));
    for (const [k, v] of Object.entries(body.params)) q.set(`p.${k}`, String(v));
    return new Promise((resolve, reject) => {
      let heard = false;
      const es = new EventSource(`/api/run/stream?${q.toString()}`);
      page.stream = es;
      const done = () => { es.close(); if (page.stream === es) page.stream = null; };
      es.addEventListener('progress', (ev) => {
        heard = true;
        try {
          const d = JSON.parse(ev.data);
          if (d.of) {
            $('progress').max = d.of;
            $('progress').value = d.done || 0;
            setStatus(`live: event ${fmtInt(d.done || 0)} of ${fmtInt(d.of)} …`);
          }
        } catch (e) { /* a progress line we cannot read is not fatal */ }
      });
      es.addEventListener('report', (ev) => {
        heard = true;
        done();
        try { resolve(JSON.parse(ev.data)); } catch (e) { reject(new Error('bad report from the server')); }
      });
      es.addEventListener('error', (ev) => {
        done();
        if (ev.data) {
          let msg = ev.data;
          try { msg = JSON.parse(ev.data).error || msg; } catch (e) { /* plain text */ }
          reject(new Error(msg));
        } else if (!heard) {
          postRun(s).then(resolve, reject);
        } else {
          reject(new Error('the connection to the server was lost during the run'));
        }
      });
    });
  }

  async function run(s, push) {
    const problem = checkSettings(s);
    if (problem) {
      setStatus(problem, true);
      return;
    }
    if (push) {
      const url = currentUrl(s);
      if (url !== location.pathname + location.search) history.pushState({ herd: 1 }, '', url);
    }
    const seq = ++page.seq;
    const t0 = performance.now();
    if (page.stream) { page.stream.close(); page.stream = null; }
    setBusy(true);
    setStatus(`running ${s.scenario} ${s.mode} on ${s.backend}, N = ${fmtInt(Number(s.n))} …`);
    let data;
    try {
      data = s.backend === 'live' ? await streamRun(s) : await postRun(s);
    } catch (e) {
      if (seq === page.seq) {
        setBusy(false);
        setStatus(e.message || String(e), true);
      }
      return;
    }
    if (seq !== page.seq) return;
    page.tFetched = performance.now();
    setBusy(false);
    const report = data && data.runs && data.runs[0];
    if (!report) {
      setStatus('the server answered without a report', true);
      return;
    }
    render(report, s, seq, t0);
  }

  function trigger() {
    run(settingsFromForm(), true);
  }

  /* ---------------------------------------------------------------------- drawing -- */
  function sameSetup(a, b) {
    return a.scenario === b.scenario && a.backend === b.backend && a.n === b.n &&
      a.events === b.events && a.seed === b.seed &&
      JSON.stringify(a.params) === JSON.stringify(b.params);
  }

  function render(report, s, seq, t0) {
    const mode = report.mode === 'mitigated' ? 'mitigated' : 'naive';
    page.kept[mode] = { report, settings: s };
    for (const m of MODES) {
      const k = page.kept[m];
      if (k && k.settings.scenario !== s.scenario) page.kept[m] = null; /* not comparable */
    }
    page.pending = { seq, t0, left: 2 };
    renderCounters(report);
    renderGrid(report);
    renderBars();
    renderSeriesChoice();
    drawTimeline();
    drawLatency();
    renderExtras(report);
    const took = performance.now() - t0;
    const label = mode === 'mitigated' ? `mitigated (${report.mitigation})` : `naive (${report.strategy || 'none'})`;
    const simTime = report.sim_time_ns ? `, simulated ${fmtNs(report.sim_time_ns)}` : '';
    setStatus(`${report.scenario} ${label} on ${report.backend}, N = ${fmtInt(report.n)}, ` +
              `${fmtInt(report.events)} events, seed ${report.seed}: done in ${fmtInt(took)} ms${simTime}`);
    page.last = { report, settings: s };
    page.runs += 1;
    document.body.dataset.runs = String(page.runs);
  }

  function chartDrawn() {
    const p = page.pending;
    if (!p) return;
    p.left -= 1;
    if (p.left > 0) return;
    page.pending = null;
    const now = performance.now();
    const ms = now - p.t0;
    page.perf.push(ms);
    page.perfDetail.push({ fetch: page.tFetched - p.t0, render: now - page.tFetched });
    document.body.dataset.drawn = String(p.seq);
  }

  function setCounter(id, peId, v, pe) {
    const el = $(id);
    el.value = fmtInt(v);
    el.textContent = fmtInt(v);
    el.dataset.value = String(v);
    $(peId).textContent = pe == null ? '' : `${fmtNum(pe)} per event`;
  }

  function renderCounters(r) {
    const pe = r.per_event || {};
    setCounter('c-wakes', 'pe-wakes', r.wakes, pe.wakes);
    setCounter('c-useful', 'pe-useful', r.useful, pe.useful);
    setCounter('c-wasted', 'pe-wasted', r.wasted, pe.wasted);
    setCounter('c-origin', 'pe-origin', r.origin_load, pe.origin_load);
  }

  function noun(name) {
    const sc = page.byName[name];
    return (sc && sc.waiter_noun) || 'waiter';
  }

  function tile(state, i, nounName, animate) {
    const t = document.createElement('span');
    t.className = `tile s-${state}${animate ? ' flip' : ''}`;
    t.dataset.state = state;
    t.textContent = SYM[state] || '?';
    t.title = `${nounName} ${i + 1}: ${state}`;
    if (animate) t.style.animationDelay = `${Math.round(i * 1.2)}ms`;
    return t;
  }

  /* Before a run (and when N changes) the grid shows the waiters asleep. */
  function drawIdleGrid(s) {
    if (page.last && sameSetup(page.last.settings, s)) return;
    const n = Number(s.n);
    if (!Number.isInteger(n) || n < 1) return;
    const shown = Math.min(n, MAX_GRID);
    const frag = document.createDocumentFragment();
    const nn = noun(s.scenario);
    for (let i = 0; i < shown; i++) frag.append(tile('idle', i, nn, false));
    const grid = $('grid');
    grid.replaceChildren(frag);
    grid.dataset.shown = '0';
    grid.setAttribute('aria-label', `${shown} ${nn}s asleep; no run with these settings yet`);
    $('grid-count').textContent = `— press Trigger to fire the event; ${fmtInt(shown)} of ` +
      `${fmtInt(n)} ${nn}s will be drawn —`;
  }

  function renderGrid(r) {
    const waiters = r.waiters || [];
    const animate = !reducedMotion.matches;
    const nn = noun(r.scenario);
    const frag = document.createDocumentFragment();
    const counts = {};
    waiters.forEach((w, i) => {
      counts[w] = (counts[w] || 0) + 1;
      frag.append(tile(w, i, nn, animate));
    });
    const grid = $('grid');
    grid.replaceChildren(frag);
    grid.dataset.shown = String(waiters.length);
    const summary = STATES.filter((st) => counts[st.name]).map((st) => `${counts[st.name]} ${st.name}`);
    grid.setAttribute('aria-label', `first ${waiters.length} ${nn}s: ${summary.join(', ')}`);
    const gc = $('grid-count');
    gc.textContent = `showing ${fmtInt(waiters.length)} of ${fmtInt(r.n)} ${nn}s` +
      (summary.length ? ` — ${summary.join(', ')}` : '');
    gc.dataset.shown = String(waiters.length);
    gc.dataset.n = String(r.n);
  }

  function buildLegend() {
    const ul = $('legend');
    ul.replaceChildren(...STATES.map((st) => {
      const li = document.createElement('li');
      const t = tile(st.name, 0, '', false);
      t.removeAttribute('title');
      t.setAttribute('aria-hidden', 'true');
      li.append(t, document.createTextNode(st.text));
      return li;
    }));
  }

  function renderBars() {
    const vals = MODES.map((m) => (page.kept[m] ? page.kept[m].report.latency_ns.p99 : null));
    const max = Math.max(0, ...vals.filter((v) => v != null));
    const other = (m) => page.kept[m === 'naive' ? 'mitigated' : 'naive'];
    MODES.forEach((m, i) => {
      const row = $(`p99-${m}`);
      const k = page.kept[m];
      const fill = row.querySelector('.bar-fill');
      const note = row.querySelector('.bar-note');
      if (!k) {
        row.dataset.ns = '';
        fill.style.width = '0';
        row.querySelector('.bar-v').textContent = '—';
        note.textContent = `no ${m} run of this scenario yet`;
        note.classList.remove('warn');
        return;
      }
      const v = vals[i];
      row.dataset.ns = String(v);
      fill.style.width = max > 0 ? `${Math.max(v > 0 ? 0.6 : 0, (100 * v) / max)}%` : '0';
      row.querySelector('.bar-v').textContent = fmtNs(v);
      const r = k.report;
      const what = m === 'mitigated' ? r.mitigation : (r.strategy || 'naive');
      const o = other(m);
      const differs = o && !sameSetup(o.settings, k.settings);
      note.textContent = `${what} · ${r.backend} · N = ${fmtInt(r.n)} · ${fmtInt(r.events)} events · seed ${r.seed}` +
        (differs ? ' — not the same settings as the other bar' : '');
      note.classList.toggle('warn', !!differs);
    });
  }

  function renderExtras(r) {
    let box = $('extras');
    if (!box) {
      box = document.createElement('details');
      box.id = 'extras';
      const sum = document.createElement('summary');
      sum.textContent = 'Every figure of this run';
      box.append(sum, document.createElement('dl'));
      $('herd').append(box);
    }
    const dl = box.querySelector('dl');
    const rows = [['peak load at the resource', fmtInt(r.peak)],
                  ['latency mean', fmtNs(r.latency_ns.mean)],
                  ['latency samples', fmtInt(r.latency_ns.count)]];
    if (r.spread) {
      rows.push(['workers that got work', `${fmtInt(r.spread.workers_used)} of ${fmtInt(r.spread.workers)}`]);
      rows.push(['largest share of the work', `${fmtNum(100 * r.spread.max_share)} %`]);
    }
    for (const [k, v] of Object.entries(r.extra || {})) rows.push([k.replace(/_/g, ' '), fmtNum(v)]);
    dl.replaceChildren(...rows.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      return [dt, dd];
    }));
  }

  /* ----------------------------------------------------------------------- charts -- */
  function keptRuns() {
    return MODES.filter((m) => page.kept[m]).map((m) => ({ mode: m, report: page.kept[m].report }));
  }

  function renderSeriesChoice() {
    const sel = $('tl-series');
    const have = new Set();
    for (const { report } of keptRuns()) {
      for (const [k, v] of Object.entries(report.timeline || {})) if (Array.isArray(v)) have.add(k);
    }
    const names = [...have].sort();
    const prev = sel.dataset.wanted || sel.value;
    sel.replaceChildren(...names.map((nm) => {
      const o = document.createElement('option');
      o.value = nm;
      o.textContent = nm;
      return o;
    }));
    if (have.has(prev)) sel.value = prev;
    else sel.value = SERIES_PREFERENCE.find((x) => have.has(x)) || names[0] || '';
    $('tl-hint').textContent = `${SERIES_HELP[sel.value] || sel.value}; both modes on one shared y ` +
      'axis, so a peak of 1,000 and a peak of 1 do not look alike.';
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

  function logRange(u, min, max) {
    if (min == null || max == null || !(max > 0)) return [1, 10];
    const lo = Math.pow(10, Math.floor(Math.log10(Math.max(min, 1e-9))));
    const hi = Math.pow(10, Math.ceil(Math.log10(max) + 1e-9));
    return [lo, hi > lo ? hi : lo * 10];
  }

  function chartWidth(el) {
    return Math.max(280, Math.floor(el.clientWidth || el.parentNode.clientWidth || 640));
  }

  /* Building a uPlot (DOM for axes and legend) costs tens of ms on a slow machine; when the
   * chart's shape is unchanged (same series, labels, scale), new data is only setData(). */
  function newChart(key, shape, makeOpts, data, el) {
    const old = page.charts[key];
    if (old && old.herdShape === shape) {
      old.setData(data);
      return;
    }
    if (old) old.destroy();
    const opts = makeOpts(); /* reads the layout (width): only when a chart is built */
    opts.hooks = { draw: [chartDrawn] };
    page.charts[key] = new uPlot(opts, data, el);
    page.charts[key].herdShape = shape;
  }

  function drawTimeline() {
    const el = $('timeline');
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
    const labels = runs.map(({ mode, report }) =>
      (mode === 'mitigated' ? `mitigated (${report.mitigation})` : 'naive'));
    const makeOpts = () => ({
      width: chartWidth(el),
      height: 260,
      scales: {
        x: { time: false },
        y: log ? { distr: 3, log: 10, range: logRange }
          : { range: (u, min, max) => [0, max > 0 ? max * 1.08 : 1] },
      },
      axes: [
        { label: `time since the run started (ms; bucket ${fmtNs(bucket)})`, labelSize: 22 },
        { label: name, labelSize: 22, size: 60,
          values: (u, vals) => vals.map((v) => (log && !isDecade(v) ? '' : fmtNum(v))) },
      ],
      series: [
        { label: 'ms', value: (u, v) => (v == null ? '—' : fmtNum(v)) },
        ...runs.map(({ mode }, i) => ({
          label: labels[i],
          stroke: COLOR[mode],
          dash: DASH[mode],
          width: 2,
          fill: mode === 'naive' ? 'rgba(213,94,0,0.10)' : 'rgba(0,114,178,0.10)',
          paths: uPlot.paths.stepped({ align: 1 }),
          points: { show: false },
          spanGaps: false,
          value: (u, v) => (v == null ? '—' : fmtNum(v)),
        })),
      ],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
    });
    newChart('timeline', JSON.stringify([name, log, bucket, labels]), makeOpts, data, el);
    el.dataset.series = String(runs.length);
    el.dataset.modes = runs.map((r) => r.mode).join(',');
  }

  function drawLatency() {
    const el = $('latency');
    const runs = keptRuns();
    const x = PCTS.map((_, i) => i);
    const data = [x, ...runs.map(({ report }) => PCTS.map(([k]) => {
      const v = report.latency_ns[k];
      return v > 0 ? v : null;
    }))];
    const labels = runs.map(({ mode, report }) =>
      (mode === 'mitigated' ? `mitigated (${report.mitigation})` : 'naive'));
    const makeOpts = () => ({
      width: chartWidth(el),
      height: 260,
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
        ...runs.map(({ mode }, i) => ({
          label: labels[i],
          stroke: COLOR[mode],
          dash: DASH[mode],
          width: 2,
          points: { show: true, size: 9, fill: COLOR[mode] },
          value: (u, v) => fmtNs(v),
        })),
      ],
      legend: { live: true },
    });
    newChart('latency', JSON.stringify(labels), makeOpts, data, el);
    el.dataset.series = String(runs.length);
  }

  let resizeTimer = 0;
  function onResize() {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const [key, id] of [['timeline', 'timeline'], ['latency', 'latency']]) {
        const c = page.charts[key];
        if (c) c.setSize({ width: chartWidth($(id)), height: 260 });
      }
    }, 120);
  }

  /* ------------------------------------------------------------------------ start -- */
  function applyView(search) {
    const q = new URLSearchParams(search);
    $('tl-log').checked = q.get('log') === '1';
    const series = q.get('series');
    if (series) $('tl-series').dataset.wanted = series;
  }

  function restoreFromUrl() {
    const s = settingsFromQuery(location.search);
    applyView(location.search);
    if (!s) return false;
    settingsToForm(s);
    run(s, false);
    return true;
  }

  function wire() {
    $('controls').addEventListener('submit', (ev) => {
      ev.preventDefault();
      trigger();
    });
    $('scenario').addEventListener('change', () => {
      const sc = page.byName[$('scenario').value];
      const s = scenarioDefaults(sc);
      s.backend = document.querySelector('input[name=backend]:checked').value;
      s.mode = document.querySelector('input[name=mode]:checked').value;
      s.seed = $('seed').value.trim() || s.seed;
      buildScenario(sc);
      settingsToForm(s);
    });
    for (const el of document.querySelectorAll('input[name=backend]')) el.addEventListener('change', updateLimits);
    for (const el of document.querySelectorAll('input[name=mode]')) el.addEventListener('change', updateMitigationHelp);
    $('mitigation').addEventListener('change', updateMitigationHelp);
    $('n').addEventListener('change', updateLimits);
    $('tl-series').addEventListener('change', () => {
      $('tl-series').dataset.wanted = $('tl-series').value;
      renderSeriesChoice();
      drawTimeline();
      if (page.last) history.replaceState(history.state, '', currentUrl(page.last.settings));
    });
    $('tl-log').addEventListener('change', () => {
      drawTimeline();
      if (page.last) history.replaceState(history.state, '', currentUrl(page.last.settings));
    });
    window.addEventListener('popstate', () => {
      if (!restoreFromUrl()) {
        const sc = page.byName[$('scenario').value] || page.catalogue.scenarios[0];
        settingsToForm(scenarioDefaults(sc));
      }
    });
    window.addEventListener('resize', onResize);
  }

  async function start() {
    buildLegend();
    wire();
    let res;
    try {
      res = await fetch('/api/scenarios');
      if (!res.ok) throw await errorOf(res);
      page.catalogue = await res.json();
    } catch (e) {
      setStatus(`cannot load the scenarios: ${e.message}`, true);
      return;
    }
    for (const sc of page.catalogue.scenarios) page.byName[sc.name] = sc;
    buildScenarioPicker();
    if (!restoreFromUrl()) {
      const first = page.byName.accept || page.catalogue.scenarios[0];
      settingsToForm(scenarioDefaults(first));
    }
    drawTimeline();
    drawLatency();
    page.pending = null;
    document.body.dataset.ready = '1';
  }

  start();
}());
