// One task: its execution record, its live log (Server-Sent Events), download and cancel.
import {FINAL, api, el, formatTime, setText, statusClass} from './common.js';

const id = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
const base = '/v1/tasks/' + encodeURIComponent(id);
const logBox = document.getElementById('log');
const cancelButton = document.getElementById('cancel');
const download = document.getElementById('download');
let current = null;
let source = null;
let reloading = null;
let phase = null; // the last phase the log told (the record has none)

setText('task-id', id);
document.title = `Task ${id.slice(0, 8)} – MiniFaaS`;
download.href = base + '/result';

const FIELDS = [
  ['status', 'Status'], ['code', 'Code'], ['url', 'Repository'], ['ref', 'Ref'], ['commit', 'Commit'],
  ['runtime', 'Runtime'], ['toolchain', 'Toolchain'],
  ['parameters', 'Parameters', v => JSON.stringify(v || [])], ['timeoutSeconds', 'Time limit (s)'],
  ['createdAt', 'Created', formatTime], ['startedAt', 'Started', formatTime], ['finishedAt', 'Finished', formatTime],
  ['queueMs', 'Queued (ms)'], ['cloneMs', 'Clone (ms)'], ['buildMs', 'Build (ms)'], ['runMs', 'Run (ms)'],
  ['exitCode', 'Exit code'], ['binaryCached', 'Binary cached', v => (v === null ? '' : v ? 'yes' : 'no')],
  ['attempts', 'Attempts'], ['workerId', 'Worker'], ['error', 'Error'],
  ['callback', 'Callback', v => (v ? `${v.state} (${v.attempts} attempts) to ${v.url}` +
    (v.lastError ? ` – ${v.lastError}` : '') : '')],
];

function showStatus(status) {
  const badge = document.getElementById('status');
  badge.textContent = status;
  badge.className = statusClass(status);
  setText('phase', phase && !FINAL.has(status) ? `(${phase})` : '');
  const final = FINAL.has(status);
  download.hidden = !final;
  cancelButton.hidden = final;
}

function showRecord(record) {
  current = record;
  showStatus(record.status);
  const list = document.getElementById('record');
  list.replaceChildren();
  for (const [key, label, format] of FIELDS) {
    const value = record[key];
    const text = format ? format(value) : (value === null || value === undefined ? '' : String(value));
    list.append(el('div', {class: 'record-row', 'data-field': key}, el('dt', {}, label),
      el('dd', {class: 'wrap'}, text === '' ? '—' : text)));
  }
}

async function loadRecord() {
  try {
    showRecord(await api(base));
    setText('message', '');
  } catch (e) {
    setText('message', e.status === 404 ? 'No such task (unknown, not yours, or past its retention).' : e.message);
    if (e.status === 404 || e.status === 400) {
      cancelButton.hidden = true;
      download.hidden = true;
    }
  }
}

/** Reads the record again after a status change, once for a burst of events. */
function reloadSoon() {
  if (!reloading) {
    reloading = setTimeout(() => {
      reloading = null;
      loadRecord();
    }, 200);
  }
}

function append(kind, text) {
  const atBottom = logBox.scrollHeight - logBox.scrollTop - logBox.clientHeight < 20;
  logBox.append(el('span', {class: kind}, text + '\n'));
  if (atBottom) logBox.scrollTop = logBox.scrollHeight;
}

function follow() {
  source = new EventSource(base + '/logs');
  setText('log-state', 'Following the log…');
  source.addEventListener('status', e => {
    const s = JSON.parse(e.data);
    // a final task's log is replayed from its start: its old statuses are history, not news
    if (current && FINAL.has(current.status) && !FINAL.has(s.status)) return;
    if (s.phase) phase = s.phase;
    showStatus(s.status);
    if (!current || current.status !== s.status) reloadSoon();
  });
  source.addEventListener('stdout', e => append('stdout', e.data));
  source.addEventListener('stderr', e => append('stderr', e.data));
  source.addEventListener('end', e => {
    source.close(); // else EventSource reconnects
    const s = JSON.parse(e.data);
    showStatus(s.status);
    setText('log-state', `Log complete: ${s.status}.`);
    reloadSoon();
  });
  source.onerror = () => {
    // a refused stream (404, 401, 429...) is not retried by EventSource; a dropped one is, from its last event id
    setText('log-state', source.readyState === EventSource.CLOSED
      ? 'The log is not available (reload the page to try again).' : 'Connection lost; reconnecting…');
  };
}

cancelButton.addEventListener('click', async () => {
  cancelButton.disabled = true;
  try {
    showRecord(await api(base, {method: 'DELETE'}));
    setText('message', '');
  } catch (e) {
    setText('message', `Not cancelled: ${e.message}`);
  } finally {
    cancelButton.disabled = false;
  }
});

await loadRecord();
if (current) follow();
