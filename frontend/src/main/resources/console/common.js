// Shared by the console's pages: API calls, DOM helpers, formatting. Untrusted text only ever goes in textContent.

export const FINAL = new Set(['FINISHED', 'FINISHED_WITH_ERRORS', 'UNEXPECTED_ERROR', 'CANCELLED']);

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Calls the API (same origin: behind oauth2-proxy the session cookie goes along); JSON in, JSON out. */
export async function api(path, {method = 'GET', json, body, headers = {}} = {}) {
  const init = {method, credentials: 'same-origin', headers: {Accept: 'application/json', ...headers}};
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'The server cannot be reached; check your connection.');
  }
  const type = res.headers.get('Content-Type') || '';
  const data = type.includes('application/json') ? await res.json().catch(() => null) : null;
  if (!res.ok) {
    let message = data && typeof data.error === 'string' ? data.error : `The server answered ${res.status}.`;
    if (res.status === 401) {
      message = 'You are not signed in (or your session expired): reload the page to sign in.';
    }
    throw new ApiError(res.status, message);
  }
  return data;
}

/** An element with attributes and children; strings become text nodes, never HTML. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Sets an element's text; an unchanged text is left alone, so that live regions do not announce it again. */
export function setText(id, text) {
  const node = document.getElementById(id);
  const value = text === null || text === undefined ? '' : String(text);
  if (node.textContent !== value) node.textContent = value;
}

/** A date and time in the reader's locale, with seconds. */
export function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString(undefined, {dateStyle: 'short', timeStyle: 'medium'});
}

/** A random Idempotency-Key (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return 'console-' + Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('');
}

/** A status badge's class: the text says the status, the colour only repeats it. */
export function statusClass(status) {
  return 'status status-' + String(status || 'unknown').toLowerCase();
}
