'use strict';
// ncalign dashboard: loads the run's history from /api/, then applies one server-sent "round" event per
// completed round. Rows are keyed by round number, so history and events may overlap without duplicates.

const SHOWN_SAMPLES = 50;
const STATUS_POLL_MS = 5000;
const state = { rows: new Map(), samples: [] };

const COLORS = {
  blue: '#2563eb', sky: '#93c5fd', orange: '#f59e0b', green: '#16a34a', red: '#dc2626',
  purple: '#7c3aed', teal: '#0d9488', gray: '#6b7280', pink: '#db2777'
};

Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.font.size = 11;
Chart.defaults.plugins.legend.labels.boxWidth = 12;
Chart.defaults.plugins.legend.labels.boxHeight = 2;
Chart.defaults.elements.point.radius = 0;
Chart.defaults.elements.line.borderWidth = 2;
Chart.defaults.interaction = { mode: 'index', intersect: false };

// series: [{label, key, color, dashed, spanGaps, points, axis}]
function lineChart(id, series, options = {}) {
  return new Chart(document.getElementById(id), {
    type: 'line',
    data: {
      labels: [],
      datasets: series.map(s => ({
        label: s.label, key: s.key, borderColor: s.color, backgroundColor: s.color,
        borderDash: s.dashed ? [5, 4] : [], spanGaps: !!s.spanGaps, pointRadius: s.points ? 3 : 0,
        yAxisID: s.axis || 'y', data: []
      }))
    },
    options: {
      scales: Object.assign({ x: { title: { display: true, text: 'round' } } }, options.scales || {})
    }
  });
}

const charts = [
  lineChart('chart-reward', [
    { label: 'mean', key: 'mean_reward', color: COLORS.blue },
    { label: 'min', key: 'min_reward', color: COLORS.sky, dashed: true },
    { label: 'max', key: 'max_reward', color: COLORS.sky, dashed: true },
    { label: 'eval (held-out)', key: 'eval_reward', color: COLORS.orange, spanGaps: true, points: true }
  ]),
  lineChart('chart-loss', [{ label: 'loss', key: 'loss', color: COLORS.purple }]),
  lineChart('chart-logp', [
    { label: 'best before', key: 'best_logp_before', color: COLORS.green, dashed: true },
    { label: 'best after', key: 'best_logp_after', color: COLORS.green },
    { label: 'worst before', key: 'worst_logp_before', color: COLORS.red, dashed: true },
    { label: 'worst after', key: 'worst_logp_after', color: COLORS.red }
  ]),
  lineChart('chart-kl', [{ label: 'KL estimate', key: 'kl', color: COLORS.teal }]),
  new Chart(document.getElementById('chart-phases'), {
    type: 'bar',
    data: {
      labels: [],
      datasets: [
        // The learner's side of a round: with max_staleness >= 1, generate and score overlap
        // learning, and only what the learner still waits for shows here.
        { label: 'waiting for samples', key: 'learner_wait_seconds', backgroundColor: COLORS.blue, data: [] },
        { label: 'learn', key: 'learn_seconds', backgroundColor: COLORS.purple, data: [] },
        { label: 'push', key: 'push_seconds', backgroundColor: COLORS.gray, data: [] },
        { label: 'held-out eval', key: 'eval_seconds', backgroundColor: COLORS.orange, data: [] }
      ]
    },
    options: {
      scales: { x: { stacked: true, title: { display: true, text: 'round' } }, y: { stacked: true, title: { display: true, text: 's' } } }
    }
  }),
  lineChart('chart-text', [
    { label: 'mean length (tokens)', key: 'mean_length', color: COLORS.pink },
    { label: 'distinct-2', key: 'distinct2', color: COLORS.gray, axis: 'y1' }
  ], {
    scales: { y1: { position: 'right', min: 0, max: 1, grid: { drawOnChartArea: false } } }
  })
];

function fmt(value, digits = 3) {
  return value === null || value === undefined ? '–' : Number(value).toFixed(digits);
}

function bytes(value) {
  if (value === null || value === undefined) {
    return '–';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = Number(value);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return (u === 0 ? String(v) : v.toFixed(1)) + ' ' + units[u];
}

function setText(id, text) {
  document.getElementById(id).textContent = text;
}

function renderCharts() {
  const rows = [...state.rows.values()].sort((a, b) => a.round - b.round);
  for (const chart of charts) {
    chart.data.labels = rows.map(r => r.round);
    for (const dataset of chart.data.datasets) {
      dataset.data = rows.map(r => r[dataset.key]);
    }
    chart.update('none');
  }
  setText('round-count', String(rows.length));
  const last = rows[rows.length - 1];
  if (last) {
    setText('last-reward', fmt(last.mean_reward));
    // KL is measured on held-out samples at evaluations only: show the latest one.
    const kls = rows.filter(r => Number.isFinite(r.kl));
    if (kls.length) {
      setText('last-kl', fmt(kls[kls.length - 1].kl, 4));
    }
    setText('last-tps', fmt(last.tokens_per_second, 0));
    setText('last-push-bytes', bytes(last.push_bytes));
    setText('last-staleness', last.staleness === null || last.staleness === undefined ? '–' : String(last.staleness));
    const evals = rows.filter(r => r.eval_reward !== null && r.eval_reward !== undefined);
    if (evals.length) {
      setText('eval-reward', fmt(evals[evals.length - 1].eval_reward));
    }
  }
}

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) {
    td.className = className;
  }
  if (className && className.includes('text')) {
    td.title = text;
  }
  row.appendChild(td);
  return td;
}

function fillTable(id, items, columns, emptyText) {
  const body = document.querySelector('#' + id + ' tbody');
  body.replaceChildren();
  if (!items.length) {
    const tr = body.insertRow();
    const td = cell(tr, emptyText);
    td.colSpan = columns;
    tr.className = 'empty';
  }
  return body;
}

function renderSamples() {
  const body = fillTable('samples', state.samples, 5, 'no samples yet');
  for (const s of state.samples) {
    const tr = body.insertRow();
    cell(tr, String(s.round), 'num');
    cell(tr, s.sampled_version === null || s.sampled_version === undefined ? 'data' : 'v' + s.sampled_version, 'num');
    cell(tr, s.prompt || '(empty prompt)', 'text');
    cell(tr, s.response, 'text');
    if (s.reward === null) {
      cell(tr, 'non-finite', 'num neg');
    } else {
      cell(tr, fmt(s.reward), 'num ' + (s.reward >= 0 ? 'pos' : 'neg'));
    }
  }
}

function renderStatus(status) {
  setText('run-name', status.run_name);
  if (status.live_version !== null) {
    setText('live-version', 'v' + status.live_version);
  }
  const body = fillTable('replicas', status.replicas, 5, 'no replicas reported');
  for (const r of status.replicas) {
    const tr = body.insertRow();
    cell(tr, r.role.toLowerCase());
    cell(tr, r.target, 'mono');
    const state = document.createElement('span');
    state.className = 'badge ' + (r.healthy ? 'up' : 'down');
    state.textContent = r.healthy ? 'serving' : r.state;
    // Why it is down or refused, in full on hover: the cell stays one line.
    state.title = r.detail;
    cell(tr, '').appendChild(state);
    cell(tr, r.live_version === null ? '–' : 'v' + r.live_version, 'num');
    cell(tr, String(r.outages), 'num');
  }
}

async function getJson(path) {
  const response = await fetch(path, { cache: 'no-store' });
  if (!response.ok) {
    throw new Error(path + ': HTTP ' + response.status);
  }
  return response.json();
}

async function loadHistory() {
  const [rows, samples] = await Promise.all([getJson('/api/metrics'), getJson('/api/samples?limit=' + SHOWN_SAMPLES)]);
  rows.forEach(r => state.rows.set(r.round, r));
  state.samples = samples;
  renderCharts();
  renderSamples();
}

async function refreshStatus() {
  try {
    renderStatus(await getJson('/api/status'));
  } catch (e) {
    console.warn('status', e);
  }
}

function setConnection(live) {
  const conn = document.getElementById('conn');
  conn.textContent = live ? 'live' : 'reconnecting…';
  conn.className = 'conn ' + (live ? 'live' : 'down');
  document.body.dataset.live = String(live);
}

function connect() {
  const events = new EventSource('/api/events');
  events.addEventListener('round', message => {
    const event = JSON.parse(message.data);
    state.rows.set(event.metrics.round, event.metrics);
    state.samples = event.samples.concat(state.samples).slice(0, SHOWN_SAMPLES);
    setText('live-version', 'v' + event.live_version);
    renderCharts();
    renderSamples();
    refreshStatus();
  });
  // Also on a reconnect: rounds completed while the stream was down come back with the history.
  events.onopen = () => {
    setConnection(true);
    loadHistory().catch(e => console.warn('history', e));
  };
  events.onerror = () => setConnection(false);
}

connect();
refreshStatus();
setInterval(refreshStatus, STATUS_POLL_MS);
