// The admin page: system status, the last hour as a chart (uPlot, from its webjar), the observer's log, injection.
import {api, el, formatTime, setText} from './common.js';

const STATUS_MS = 10000;
const HISTORY_MS = 30000;
const chartBox = document.getElementById('chart');
let chart = null;

function fail(e) {
  setText('message', e.message);
}

async function loadStatus() {
  try {
    const s = await api('/getSystemStatus');
    setText('sys-status', s.status);
    setText('sys-decided', s.number_of_workers);
    setText('sys-live', s.live_workers);
    setText('sys-backlog', s.backlog);
    setText('sys-running', s.running);
    document.getElementById('warnings').replaceChildren(...(s.warnings || []).map(w => el('li', {}, w)));
    const events = s.data || [];
    document.getElementById('events').replaceChildren(...events.map(line => el('li', {}, line)));
    document.getElementById('events-empty').hidden = events.length > 0;
    setText('status-updated', 'Updated ' + formatTime(new Date().toISOString()));
    setText('message', '');
  } catch (e) {
    fail(e);
  }
}

function chartWidth() {
  return Math.max(240, chartBox.clientWidth);
}

async function loadHistory() {
  try {
    const samples = await api('/v1/system/history');
    const data = [
      samples.map(s => Date.parse(s.at) / 1000),
      samples.map(s => s.backlog),
      samples.map(s => s.running),
      samples.map(s => s.live_workers),
    ];
    if (!chart) {
      chart = new uPlot({
        width: chartWidth(),
        height: 240,
        series: [
          {label: 'Time'},
          {label: 'Backlog', stroke: '#c2410c', width: 2},
          {label: 'Running', stroke: '#1d4ed8', width: 2},
          {label: 'Workers live', stroke: '#15803d', width: 2, dash: [6, 4]},
        ],
        axes: [{}, {label: 'tasks / workers'}],
        scales: {
          x: {time: true, range: () => [Date.now() / 1000 - 3600, Date.now() / 1000]}, // always the last hour
          y: {range: (u, min, max) => [0, Math.max(4, max)]},
        },
      }, data, chartBox);
    } else {
      chart.setData(data);
    }
    document.querySelector('#history-table tbody').replaceChildren(...samples.map(s => el('tr', {},
      el('td', {}, formatTime(s.at)), el('td', {}, s.backlog), el('td', {}, s.running), el('td', {}, s.live_workers),
      el('td', {}, s.number_of_workers === null ? '—' : s.number_of_workers))));
  } catch (e) {
    fail(e);
  }
}

window.addEventListener('resize', () => {
  if (chart) chart.setSize({width: chartWidth(), height: 240});
});

document.getElementById('inject-form').addEventListener('submit', async event => {
  event.preventDefault();
  const input = document.getElementById('inject-file');
  if (!input.files.length) return;
  const body = new FormData();
  body.append('file', input.files[0]);
  const button = document.getElementById('inject');
  button.disabled = true;
  setText('inject-message', 'Sending…');
  try {
    const answer = await api('/injectFile', {method: 'POST', body});
    setText('inject-message', `Queued for injection as ${answer.data}.`);
    input.value = '';
  } catch (e) {
    setText('inject-message', `Not injected: ${e.message}`);
  } finally {
    button.disabled = false;
  }
});

loadStatus();
loadHistory();
setInterval(loadStatus, STATUS_MS);
setInterval(loadHistory, HISTORY_MS);
