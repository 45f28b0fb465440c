/**
 * Browser helpers every page uses (plain JS as text, no build step): building DOM nodes (user
 * values always go in as text, never as HTML), calling the JSON API, links, times ("in 3 m").
 */
export const CLIENT_CORE = `
const BODY = document.body.dataset;
const READ_ONLY = BODY.readonly === 'true';
const VIEW = JSON.parse(BODY.view);
const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'];

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  for (const c of children.flat(Infinity)) if (c !== undefined && c !== null && c !== false) node.append(c instanceof Node ? c : String(c));
  return node;
}
function setAttrs(node, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
}
function svg(tag, attrs, ...children) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  setAttrs(node, attrs);
  for (const c of children.flat(Infinity)) if (c !== undefined && c !== null) node.append(c instanceof Node ? c : String(c));
  return node;
}
const byId = (id) => document.getElementById(id);
const fill = (node, ...children) => node.replaceChildren(...el('div', {}, ...children).childNodes);
const enc = encodeURIComponent;
const queueHref = (q, params) => 'queues/' + enc(q) + (params ? '?' + new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== '' && v !== null)).toString() : '');
const jobHref = (q, id) => 'queues/' + enc(q) + '/jobs/' + enc(id);
const json = (v) => JSON.stringify(v, null, 2);
const status = (text) => { byId('status').textContent = text || ''; };

function time(ms) { return ms ? new Date(ms).toLocaleString() : '–'; }
/** "in 3 m", "12 s ago": how far a time is from now. */
function rel(ms) {
  if (!ms) return '';
  const d = ms - Date.now();
  const a = Math.abs(d);
  const text = a < 60e3 ? Math.round(a / 1e3) + ' s' : a < 3600e3 ? Math.round(a / 60e3) + ' m' : a < 172800e3 ? Math.round(a / 3600e3) + ' h' : Math.round(a / 86400e3) + ' d';
  return d >= 0 ? 'in ' + text : text + ' ago';
}
function timeRel(ms) { return ms ? time(ms) + ' (' + rel(ms) + ')' : '–'; }

async function api(path, body) {
  const res = await fetch('api/' + path, body === undefined ? { cache: 'no-store' } : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}
/** Posts an action; its error shows in the header. True when it was done. */
async function act(path, body) {
  try { await api(path, body || {}); status(''); return true; } catch (err) { status(err.message); return false; }
  finally { refresh(); }
}

/** Re-renders the page every 2 s; one render at a time. */
let rendering = false;
let renderPage = async () => {};
async function refresh() {
  if (rendering) return;
  rendering = true;
  try {
    await renderPage();
    byId('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (err) {
    status(err.message);
  } finally {
    rendering = false;
  }
}
`;
