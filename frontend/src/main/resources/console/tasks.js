// The console's home page: submit a task, and the caller's tasks with live status (polled every 2 s while any is
// not final, every 15 s otherwise, never while the tab is hidden).
import {FINAL, api, el, formatTime, randomKey, setText, statusClass} from './common.js';

const POLL_MS = 2000; // while a task is not final
const IDLE_MS = 15000; // otherwise: tasks created elsewhere (the CLI, the API) show up too
const RETRY_MS = 5000;
const MAX_PAGES = 5; // 5 × 100 records: more than a user's quota of active tasks

const form = document.getElementById('submit-form');
const submitButton = document.getElementById('submit');
const tbody = document.querySelector('#tasks tbody');
let newestFirst = true;
let records = [];
const lastStatus = new Map(); // id -> status, to announce changes
let timer = null;
let idempotencyKey = randomKey(); // one per task the form creates: a double submit creates it once

/** Lines of the text area, one parameter each; only trailing empty lines are dropped. */
function parameters(text) {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

form.addEventListener('submit', async event => {
  event.preventDefault();
  const url = document.getElementById('url').value.trim();
  const ref = document.getElementById('ref').value.trim();
  const body = {url, parameters: parameters(document.getElementById('parameters').value)};
  if (ref) body.ref = ref;
  const runtime = document.getElementById('runtime').value;
  if (runtime) body.runtime = runtime;
  submitButton.disabled = true;
  setText('submit-message', 'Submitting…');
  try {
    const record = await api('/v1/tasks', {method: 'POST', json: body, headers: {'Idempotency-Key': idempotencyKey}});
    idempotencyKey = randomKey();
    setText('submit-message', `Task ${record.id} submitted.`);
    document.getElementById('submit-message').classList.remove('error');
    refresh();
  } catch (e) {
    setText('submit-message', `Not submitted: ${e.message}`);
    document.getElementById('submit-message').classList.add('error');
    if (e.status !== 0) idempotencyKey = randomKey(); // refused: a corrected form is another task
  } finally {
    submitButton.disabled = false;
  }
});

document.getElementById('sort-created').addEventListener('click', () => {
  newestFirst = !newestFirst;
  document.getElementById('created-header').setAttribute('aria-sort', newestFirst ? 'descending' : 'ascending');
  setText('sort-arrow', newestFirst ? '▼' : '▲');
  setText('sort-hint', newestFirst ? '(newest first; activate for oldest first)'
    : '(oldest first; activate for newest first)');
  render();
});

async function load() {
  const all = [];
  let cursor = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = '/v1/tasks?limit=100' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
    const body = await api(query);
    all.push(...body.data);
    cursor = body.nextCursor;
    if (!cursor) break;
  }
  return all;
}

async function refresh() {
  clearTimeout(timer);
  timer = null;
  try {
    records = await load();
    setText('tasks-message', '');
    announceChanges();
    render();
    schedule(records.some(r => !FINAL.has(r.status)) ? POLL_MS : IDLE_MS);
  } catch (e) {
    setText('tasks-message', e.message);
    if (e.status !== 401) schedule(RETRY_MS);
  }
}

function schedule(ms) {
  clearTimeout(timer);
  timer = document.hidden ? null : setTimeout(refresh, ms); // hidden tabs do not poll; see visibilitychange
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden && timer === null) refresh();
});

function announceChanges() {
  const changes = [];
  for (const r of records) {
    const before = lastStatus.get(r.id);
    if (before !== undefined && before !== r.status) changes.push(`Task ${r.id.slice(0, 8)} is now ${r.status}.`);
    lastStatus.set(r.id, r.status);
  }
  if (changes.length) setText('announcer', changes.join(' '));
}

function sorted() {
  const key = r => `${r.createdAt || ''}|${r.id}`;
  return [...records].sort((a, b) => (newestFirst ? -1 : 1) * key(a).localeCompare(key(b)));
}

/** Updates rows in place (a focused link keeps its focus across polls), adding and ordering as needed. */
function render() {
  const existing = new Map([...tbody.rows].map(row => [row.dataset.id, row]));
  const wanted = sorted();
  wanted.forEach((r, index) => {
    let row = existing.get(r.id);
    if (!row) {
      row = newRow(r);
    }
    existing.delete(r.id);
    const badge = row.querySelector('.status');
    if (badge.textContent !== r.status) {
      badge.textContent = r.status;
      badge.className = statusClass(r.status);
    }
    if (tbody.rows[index] !== row) tbody.insertBefore(row, tbody.rows[index] || null);
  });
  existing.forEach(row => row.remove()); // past their retention
  document.getElementById('no-tasks').hidden = records.length > 0;
}

function newRow(r) {
  const repo = el('td', {class: 'wrap', 'data-label': 'Repository'}, r.url);
  if (r.ref) repo.append(' ', el('span', {class: 'ref'}, '@ ' + r.ref));
  return el('tr', {'data-id': r.id},
    el('td', {'data-label': 'Created'}, el('time', {datetime: r.createdAt}, formatTime(r.createdAt))),
    el('td', {'data-label': 'Task'}, el('a', {href: '/tasks/' + encodeURIComponent(r.id), title: r.id,
      'aria-label': 'Task ' + r.id}, r.id.slice(0, 8))),
    repo,
    el('td', {class: 'wrap optional', 'data-label': 'Parameters'}, (r.parameters || []).join(' · ')),
    el('td', {'data-label': 'Status'}, el('span', {class: statusClass(r.status)}, r.status)));
}

refresh();
