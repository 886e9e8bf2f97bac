/* guide.js — the field guide's view on herd serve's page (guide.html), one ES module.
 *
 * Walks the lessons of GET /api/lessons: the section's setting and question, the reader's
 * pick (radio buttons, check boxes where several may be picked, one menu per trigger for
 * the matching exercise), POST /api/lesson with it, then the verdict on the pick, the
 * guide's answer and why, the claims just judged, each choice's figures (the decision
 * games measured pick by pick), the herd resource's load naive vs the answer's strategy
 * (uPlot), and "try this". The pictures come from POST /api/picture. The address bar keeps
 * the lesson (?lesson=NAME); nothing runs until the reader presses Run it.
 *
 * Test hooks: body[data-ready] once the lessons are listed; body[data-lesson-runs] counts
 * rendered results; #verdict[data-correct]; claim rows carry data-verdict; pick rows
 * data-strategy and cells data-figure / data-value.
 */
const $ = (id) => document.getElementById(id);

function h(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

const fmt = (v) => {
  if (typeof v === 'string') return v;
  if (v == null || !Number.isFinite(v)) return '—';
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  const a = Math.abs(v);
  return a >= 100 ? Math.round(v).toLocaleString('en-US') : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
};

const state = { lessons: [], byName: {}, current: null, runs: 0, controller: null, chart: null };

async function errorText(res) {
  try {
    const j = await res.json();
    return j.error || `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

function setStatus(text, error = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', error);
}

function listLessons() {
  const ol = $('lesson-list');
  ol.replaceChildren();
  let section = null;
  for (const l of state.lessons) {
    if (l.section !== section) {
      section = l.section;
      ol.append(h('li', { className: 'section' }, section));
    }
    const a = h('a', { href: `?lesson=${encodeURIComponent(l.name)}`, dataset: { lesson: l.name } }, l.name);
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      show(l.name, true);
    });
    ol.append(h('li', {}, a, ' ', h('span', { className: 'muted' }, l.question)));
  }
}

/* The pick the form holds, as the API reads it ("B", "B+C", "B,A,C"), or "" for none. */
function pickOf(l) {
  if (l.items.length) {
    const keys = l.items.map((_, i) => $(`item-${i}`).value);
    return keys.every((k) => k) ? keys.join(',') : '';
  }
  return [...document.querySelectorAll('#choices input:checked')].map((e) => e.value).join('+');
}

function show(name, push) {
  const l = state.byName[name];
  if (!l) return;
  state.current = l;
  if (state.controller) state.controller.abort();
  if (push) history.pushState({ lesson: name }, '', `?lesson=${encodeURIComponent(name)}`);
  $('lesson').hidden = false;
  $('result').hidden = true;
  $('lesson-section').textContent = l.section + (l.open ? ' · the guide asks this openly; the choices are herd\'s' : '');
  $('lesson-h').textContent = l.question;
  $('lesson-setting').textContent = l.setting;
  const box = $('choices');
  box.replaceChildren();
  if (l.items.length) {
    l.items.forEach((item, i) => {
      const sel = h('select', { id: `item-${i}`, name: `item-${i}` },
        h('option', { value: '' }, 'pick…'),
        ...l.choices.map((c) => h('option', { value: c.key }, `${c.key}. ${c.text}`)));
      box.append(h('div', { className: 'row' }, h('label', { htmlFor: `item-${i}` }, item), sel));
    });
    $('choices-hint').textContent = 'one herd type per trigger';
  } else {
    const type = l.multi ? 'checkbox' : 'radio';
    const fs = h('fieldset', { className: 'choice-set' }, h('legend', { className: 'visually-hidden' }, 'your answer'));
    for (const c of l.choices) {
      fs.append(h('label', { className: 'choice' },
        h('input', { type, name: 'choice', value: c.key }), ` ${c.key}) ${c.text}`));
    }
    box.append(fs);
    $('choices-hint').textContent = l.multi ? 'pick one or more' : 'pick one';
  }
  setStatus('');
  for (const a of document.querySelectorAll('#lesson-list a')) {
    if (a.dataset.lesson === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function renderClaims(o) {
  const tb = $('claims').tBodies[0];
  tb.replaceChildren();
  for (const e of o.evidence) {
    for (const c of e.claims) {
      tb.append(h('tr', { dataset: { verdict: c.verdict } },
        h('td', { className: c.verdict === 'PASS' ? 'pass' : 'fail' }, c.verdict === 'PASS' ? '✓ PASS' : '✗ FAIL'),
        h('td', { className: 'num' }, fmt(c.measured)),
        h('td', {}, c.says, h('br'), h('code', { className: 'muted' }, c.check)),
        h('td', {}, `field-guide/${e.file}`)));
    }
  }
}

function renderPicks(o) {
  const t = $('picks');
  const cols = o.picks.columns;
  t.tHead.replaceChildren(h('tr', {}, h('th', { scope: 'col' }, 'strategy'), h('th', { scope: 'col' }, 'choice'),
    ...cols.map((c) => h('th', { scope: 'col', className: 'num' }, c.label))));
  t.tBodies[0].replaceChildren(...o.picks.rows.map((r) => h('tr', { dataset: { strategy: r.strategy } },
    h('th', { scope: 'row' }, r.strategy), h('td', {}, r.choices),
    ...cols.map((c) => h('td', { className: 'num', dataset: { figure: c.figure, value: String(r.figures[c.figure] ?? '') } },
      fmt(r.figures[c.figure]))))));
  const ev = o.evidence[0];
  $('picks-h').textContent = `Pick by pick (field-guide/${ev.file}; origin load and peak are the herd resource's, glossary)`;
}

function renderChart(o) {
  const c = o.chart;
  const box = $('chart');
  if (state.chart) {
    state.chart.destroy();
    state.chart = null;
  }
  box.replaceChildren();
  if (!c || !Array.isArray(c.naive) || !window.uPlot) {
    $('chart-h').textContent = '';
    return;
  }
  $('chart-h').textContent = `Load on ${c.component} (${c.series} per second): naive vs ${o.versus}`;
  const per = 1 / c.bucket_s;
  const xs = c.naive.map((_, i) => (i + 0.5) * c.bucket_s);
  const versus = Array.isArray(c.versus) ? c.versus : [];
  const width = Math.max(280, Math.min(box.clientWidth || 800, 1000));
  state.chart = new window.uPlot({
    width, height: 260,
    scales: { x: { time: false } },
    axes: [{ label: 'time (s)' }, { label: `${c.series} per second`, size: 70 }],
    series: [{}, { label: 'naive', stroke: '#d55e00', width: 1.6, dash: [6, 3] },
      { label: o.versus, stroke: '#0072b2', width: 1.6 }],
  }, [xs, c.naive.map((v) => v * per), versus.map((v) => v * per)], box);
  box.dataset.points = String(xs.length);
}

function render(o) {
  const l = state.current;
  const v = $('verdict');
  if (o.pick) {
    v.textContent = o.correct ? `Your pick: ${o.pick} — right. The guide's answer: ${l.answer}.`
      : `Your pick: ${o.pick} — not the guide's. The guide's answer: ${l.answer}.`;
    v.dataset.correct = String(o.correct);
  } else {
    v.textContent = `The guide's answer: ${l.answer}.`;
    v.dataset.correct = '';
  }
  $('because').textContent = l.because;
  renderClaims(o);
  renderPicks(o);
  renderChart(o);
  $('tries').replaceChildren(...l.tries.map((t) => h('li', {}, h('code', {}, t))));
  $('result').hidden = false;
  state.runs += 1;
  document.body.dataset.lessonRuns = String(state.runs);
}

async function runLesson(ev) {
  ev.preventDefault();
  const l = state.current;
  const pick = pickOf(l);
  if (state.controller) state.controller.abort();
  const controller = new AbortController();
  state.controller = controller;
  setStatus(`running ${l.name}'s scenarios on the simulator…`);
  $('run').disabled = true;
  try {
    const body = { lesson: l.name };
    if (pick) body.answer = pick;
    const res = await fetch('/api/lesson', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                             body: JSON.stringify(body), signal: controller.signal });
    if (!res.ok) throw new Error(await errorText(res));
    const o = await res.json();
    if (state.current !== l) return;
    render(o);
    const failed = o.claims_failed;
    setStatus(failed ? `${failed} claim${failed === 1 ? '' : 's'} failed at this seed` : 'done: every claim holds', failed > 0);
  } catch (e) {
    if (e.name !== 'AbortError') setStatus(`cannot run it: ${e.message}`, true);
  } finally {
    if (state.controller === controller) state.controller = null;
    $('run').disabled = false;
  }
}

async function drawPicture(p) {
  const fig = $('picture');
  $('picture-cap').textContent = `drawing ${p.name} from runs…`;
  fig.hidden = false;
  try {
    const res = await fetch('/api/picture', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                              body: JSON.stringify({ picture: p.name }) });
    if (!res.ok) throw new Error(await errorText(res));
    const blob = await res.blob();
    const img = $('picture-img');
    if (img.src) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(blob);
    img.alt = `${p.name}: ${p.help}`;
    img.dataset.picture = p.name;
    $('picture-cap').textContent = `${p.help} (herd picture ${p.name})`;
  } catch (e) {
    $('picture-cap').textContent = `cannot draw ${p.name}: ${e.message}`;
  }
}

function showUrl() {
  const name = new URLSearchParams(location.search).get('lesson');
  if (name && state.byName[name]) show(name, false);
}

async function start() {
  try {
    const res = await fetch('/api/lessons');
    if (!res.ok) throw new Error(await errorText(res));
    const o = await res.json();
    state.lessons = o.lessons;
    for (const l of o.lessons) state.byName[l.name] = l;
    $('picture-buttons').replaceChildren(...o.pictures.map((p) => {
      const b = h('button', { type: 'button', dataset: { picture: p.name }, title: p.help }, p.name);
      b.addEventListener('click', () => drawPicture(p));
      return b;
    }));
  } catch (e) {
    $('lesson-list').replaceChildren(h('li', { className: 'error' }, `cannot load the lessons: ${e.message}`));
    return;
  }
  listLessons();
  $('answer').addEventListener('submit', runLesson);
  $('next').addEventListener('click', () => {
    const i = state.lessons.indexOf(state.current);
    const next = state.lessons[(i + 1) % state.lessons.length];
    show(next.name, true);
    $('lesson').focus();
  });
  window.addEventListener('popstate', showUrl);
  showUrl();
  document.body.dataset.ready = '1';
}

start();
