/**
 * The dashboard's one page: static HTML and vanilla JS, no build step. It polls the JSON API
 * (`api/queues`, `api/queues/<q>/jobs?state=&page=`, `api/queues/<q>/jobs/<id>`) once a second and
 * posts actions to it. Everything user-supplied is inserted as text, never as HTML.
 */
export function dashboardPage(base: string, readOnly: boolean, store = ''): string {
  const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<base href="${attr(base)}">
<title>Docket</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #f6f7f9; }
  header { background: #1f2937; color: #fff; padding: 10px 16px; display: flex; gap: 16px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  header a { color: #fff; }
  #status { color: #fca5a5; }
  main { padding: 16px; display: grid; gap: 16px; }
  section { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; padding: 12px; overflow-x: auto; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
  th { font-weight: 600; color: #555; }
  a { color: #2563eb; text-decoration: none; }
  a:hover { text-decoration: underline; }
  .tabs a { margin-right: 12px; }
  .tabs a.current { font-weight: 700; color: #111; }
  .badge { font-size: 12px; padding: 1px 6px; border-radius: 8px; background: #e5e7eb; }
  .badge.paused { background: #fde68a; }
  .state-failed { color: #b91c1c; } .state-completed { color: #15803d; } .state-active { color: #1d4ed8; }
  pre { background: #f3f4f6; padding: 8px; border-radius: 4px; white-space: pre-wrap; word-break: break-word; margin: 4px 0 12px; }
  button { margin-right: 6px; }
  .actions { margin: 8px 0; display: flex; gap: 6px; flex-wrap: wrap; align-items: center; }
  ul.flow { margin: 0; padding-left: 18px; }
  .muted { color: #888; }
</style>
</head>
<body data-readonly="${readOnly}">
<header><h1><a href="#">Docket</a></h1><span id="store" data-testid="store">${attr(store)}</span><span id="updated" class="muted"></span><span id="status" data-testid="status"></span></header>
<main>
  <section><h2>Queues</h2><div id="queues" data-testid="queues">loading…</div></section>
  <section id="queue-view" hidden></section>
  <section id="job-view" hidden></section>
</main>
<script>
(() => {
  const READ_ONLY = document.body.dataset.readonly === 'true';
  const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'];
  const PAGE_SIZE = 20;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) if (c !== undefined && c !== null) node.append(c instanceof Node ? c : String(c));
    return node;
  }
  const fill = (node, ...children) => node.replaceChildren(...el('div', {}, ...children).childNodes);
  const route = () => new URLSearchParams(location.hash.slice(1));
  const link = (params) => '#' + new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== '')).toString();
  const time = (ms) => (ms ? new Date(ms).toLocaleString() : '–');
  const json = (v) => JSON.stringify(v, null, 2);
  const status = (text) => { document.getElementById('status').textContent = text || ''; };

  async function api(path, body) {
    const res = await fetch('api/' + path, body === undefined ? {} : {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || res.statusText);
    return data;
  }
  async function act(path, body) {
    try { await api(path, body || {}); status(''); } catch (err) { status(err.message); }
    refresh();
  }
  function parseDuration(text) {
    const m = /^(\\d+(?:\\.\\d+)?)(ms|s|m|h|d)?$/.exec(String(text).trim());
    if (!m) return undefined;
    return Math.round(Number(m[1]) * { ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[m[2] || 'ms']);
  }

  function renderQueues(data) {
    const box = document.getElementById('queues');
    if (data.queues.length === 0) {
      box.replaceChildren(el('p', { class: 'muted' }, data.listed ? 'No queues yet.' : 'This store cannot list queues: start the dashboard with the queue names.'));
      return;
    }
    const current = route().get('q');
    box.replaceChildren(el('table', {},
      el('thead', {}, el('tr', {}, el('th', {}, 'queue'), STATES.map((s) => el('th', {}, s)))),
      el('tbody', {}, data.queues.map((q) => el('tr', { 'data-queue': q.name },
        el('td', {}, el('a', { href: link({ q: q.name, s: 'waiting' }), class: q.name === current ? 'current' : undefined }, q.name),
          ' ', q.paused ? el('span', { class: 'badge paused', 'data-testid': 'paused-' + q.name }, 'paused') : ''),
        STATES.map((s) => el('td', {}, el('a', { href: link({ q: q.name, s }), 'data-testid': 'count-' + q.name + '-' + s }, String(q.counts[s] ?? 0)))),
      ))),
    ));
    return data.queues.find((q) => q.name === current);
  }

  async function renderQueue(summary) {
    const view = document.getElementById('queue-view');
    const r = route();
    const name = r.get('q');
    if (!name) { view.hidden = true; return; }
    const state = r.get('s') || 'waiting';
    const page = Number(r.get('p') || 1);
    const data = await api('queues/' + encodeURIComponent(name) + '/jobs?state=' + state + '&page=' + page + '&pageSize=' + PAGE_SIZE);
    const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
    const q = 'queues/' + encodeURIComponent(name) + '/';
    const actions = READ_ONLY ? el('p', { class: 'muted' }, 'read-only') : el('div', { class: 'actions' },
      summary && summary.paused
        ? el('button', { 'data-testid': 'resume', onclick: () => act(q + 'resume') }, 'Resume')
        : el('button', { 'data-testid': 'pause', onclick: () => act(q + 'pause') }, 'Pause'),
      el('button', { 'data-testid': 'retry-all', onclick: () => act(q + 'retry', { state: 'failed' }) }, 'Retry all failed'),
      el('button', { 'data-testid': 'promote-all', onclick: () => act(q + 'promote') }, 'Promote all delayed'),
      el('span', {}, ' Clean '),
      el('select', { id: 'clean-state' }, ['completed', 'failed', 'delayed', 'waiting'].map((s) => el('option', { value: s }, s))),
      el('span', {}, ' older than '),
      el('input', { id: 'clean-grace', value: '1h', size: 5, title: 'e.g. 30s, 5m, 1h, 2d' }),
      el('button', { 'data-testid': 'clean', onclick: () => {
        const grace = parseDuration(document.getElementById('clean-grace').value);
        if (grace === undefined) return status('grace must be a duration like 30s, 5m, 1h');
        act(q + 'clean', { state: document.getElementById('clean-state').value, grace });
      } }, 'Clean'),
    );
    view.hidden = false;
    fill(view,
      el('h2', {}, name, summary && summary.paused ? el('span', { class: 'badge paused' }, ' paused') : ''),
      actions,
      el('div', { class: 'tabs' }, STATES.map((s) => el('a', { href: link({ q: name, s }), class: s === state ? 'current' : undefined },
        s + ' (' + (summary ? summary.counts[s] ?? 0 : '?') + ')'))),
      data.jobs.length === 0 ? el('p', { class: 'muted' }, 'No ' + state + ' jobs.') : el('table', { 'data-testid': 'jobs' },
        el('thead', {}, el('tr', {}, ['id', 'name', 'attempts', 'created', 'finished', 'info'].map((h) => el('th', {}, h)))),
        el('tbody', {}, data.jobs.map((j) => el('tr', { 'data-job': j.id },
          el('td', {}, el('a', { href: link({ q: name, s: state, p: page > 1 ? page : '', job: j.id }) }, j.id)),
          el('td', {}, j.name), el('td', {}, j.attemptsMade), el('td', {}, time(j.timestamp)), el('td', {}, time(j.finishedOn)),
          el('td', {}, j.failedReason || (j.progress ? 'progress ' + JSON.stringify(j.progress) : '')),
        ))),
      ),
      el('p', {},
        page > 1 ? el('a', { href: link({ q: name, s: state, p: page - 1 }), 'data-testid': 'prev' }, '← prev') : '',
        ' page ' + page + ' of ' + pages + ' (' + data.total + ' jobs) ',
        page < pages ? el('a', { href: link({ q: name, s: state, p: page + 1 }), 'data-testid': 'next' }, 'next →') : ''),
    );
  }

  function flowTree(node, currentId) {
    return el('li', {},
      el('a', { href: link({ q: node.queueName, s: node.state, job: node.id }) }, node.queueName + ' / ' + (node.name || '') + ' #' + node.id),
      ' ', el('span', { class: 'state-' + node.state }, node.state), node.id === currentId ? ' ◀' : '',
      node.children.length ? el('ul', { class: 'flow' }, node.children.map((c) => flowTree(c, currentId))) : '');
  }

  async function renderJob() {
    const view = document.getElementById('job-view');
    const r = route();
    const name = r.get('q');
    const id = r.get('job');
    if (!name || !id) { view.hidden = true; return; }
    let job;
    try { job = await api('queues/' + encodeURIComponent(name) + '/jobs/' + encodeURIComponent(id)); }
    catch (err) { view.hidden = false; view.replaceChildren(el('p', {}, err.message)); return; }
    const path = 'queues/' + encodeURIComponent(name) + '/jobs/' + encodeURIComponent(id) + '/';
    const buttons = READ_ONLY ? [] : [
      job.state === 'failed' || job.state === 'completed' ? el('button', { 'data-testid': 'job-retry', onclick: () => act(path + 'retry') }, 'Retry') : '',
      job.state === 'delayed' ? el('button', { 'data-testid': 'job-promote', onclick: () => act(path + 'promote') }, 'Promote') : '',
      job.state !== 'failed' && job.state !== 'completed' ? el('button', { 'data-testid': 'job-cancel', onclick: () => { if (confirm('Cancel job ' + id + '? It fails at once, without retry' + (job.state === 'active' ? ', and its worker stops it.' : '.'))) act(path + 'cancel'); } }, 'Cancel') : '',
      el('button', { 'data-testid': 'job-remove', onclick: () => { if (confirm('Remove job ' + id + '?')) act(path + 'remove'); } }, 'Remove'),
    ];
    view.hidden = false;
    fill(view,
      el('h2', {}, 'Job ' + job.id + ' (' + job.name + ') — ', el('span', { class: 'state-' + job.state, 'data-testid': 'job-state' }, job.state)),
      el('div', { class: 'actions' }, buttons),
      el('table', {}, el('tbody', {},
        [['attempts', job.attemptsMade + ' made, ' + job.attemptsStarted + ' started'], ['created', time(job.timestamp)],
         ['processed', time(job.processedOn) + (job.processedBy ? ' by ' + job.processedBy : '')], ['finished', time(job.finishedOn)],
         ['progress', JSON.stringify(job.progress)], ['failed reason', job.failedReason || '–']]
          .map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', { 'data-testid': 'job-' + k.replace(' ', '-') }, v))))),
      el('h3', {}, 'Data'), el('pre', { 'data-testid': 'job-data' }, json(job.data)),
      el('h3', {}, 'Options'), el('pre', {}, json(job.opts)),
      job.state === 'completed' ? [el('h3', {}, 'Return value'), el('pre', {}, json(job.returnvalue))] : '',
      job.stacktrace.length ? [el('h3', {}, 'Stack traces'), job.stacktrace.map((s) => el('pre', { 'data-testid': 'job-stack' }, s))] : '',
      Object.keys(job.steps).length ? [el('h3', {}, 'Steps (' + Object.keys(job.steps).length + ' recorded)'),
        el('table', { 'data-testid': 'job-steps' }, el('tbody', {}, Object.entries(job.steps)
          .map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, el('pre', {}, json(v)))))))] : '',
      el('h3', {}, 'Logs (' + job.logs.length + ')'), el('pre', { 'data-testid': 'job-logs' }, job.logs.join('\\n') || '–'),
      job.flow ? [el('h3', {}, 'Flow'), el('ul', { class: 'flow', 'data-testid': 'job-flow' }, flowTree(job.flow, job.id))] : '',
    );
  }

  let busy = false;
  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const data = await api('queues');
      const summary = renderQueues(data);
      await renderQueue(summary);
      await renderJob();
      document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    } catch (err) {
      status(err.message);
    } finally {
      busy = false;
    }
  }
  window.addEventListener('hashchange', refresh);
  refresh();
  setInterval(refresh, 1000);
})();
</script>
</body>
</html>
`;
}
