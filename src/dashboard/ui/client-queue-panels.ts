/**
 * A queue page's panels (browser side): queue-wide actions, the add-job form, live workers, job
 * schedulers with their next run, and groups.
 */
export const CLIENT_QUEUE_PANELS = String.raw`
function parseDuration(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(String(text).trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * { ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[m[2] || 'ms']);
}

/** Built once (inputs keep what is typed); only the pause/resume button follows the queue. */
function renderQueueActions(box, base, info) {
  if (!box.dataset.built) {
    box.dataset.built = '1';
    fill(box,
      el('button', { id: 'pause-resume', 'data-testid': 'pause-resume', onclick: (e) => act(base + (e.target.dataset.paused === 'true' ? 'resume' : 'pause')) }),
      el('button', { 'data-testid': 'retry-all', onclick: () => act(base + 'retry', { state: 'failed' }) }, 'Retry all failed'),
      el('button', { 'data-testid': 'promote-all', onclick: () => act(base + 'promote') }, 'Promote all delayed'),
      el('span', {}, ' Clean '),
      el('select', { id: 'clean-state' }, ['completed', 'failed', 'delayed', 'waiting'].map((s) => el('option', { value: s }, s))),
      el('span', {}, ' older than '),
      el('input', { id: 'clean-grace', value: '1h', size: 5, title: 'e.g. 30s, 5m, 1h, 2d' }),
      el('button', { 'data-testid': 'clean', onclick: () => {
        const grace = parseDuration(byId('clean-grace').value);
        if (grace === undefined) return status('grace must be a duration like 30s, 5m, 1h');
        act(base + 'clean', { state: byId('clean-state').value, grace });
      } }, 'Clean'));
  }
  const button = byId('pause-resume');
  button.dataset.paused = String(info.paused);
  button.textContent = info.paused ? 'Resume' : 'Pause';
}

/** Name, JSON data and JSON options; bad JSON is named before anything is sent. */
function addJobForm(q, onAdded) {
  const message = el('div', { 'data-testid': 'add-message' });
  const parse = (id, label) => {
    const text = byId(id).value.trim();
    if (!text) return { value: '' };
    try { return { value: JSON.parse(text) }; } catch (err) { return { error: label + ' is not valid JSON: ' + err.message }; }
  };
  return el('form', { class: 'add', 'data-testid': 'add-form', onsubmit: async (e) => {
    e.preventDefault();
    const data = parse('add-data', 'data'), opts = parse('add-opts', 'options');
    const error = data.error || opts.error || (opts.value !== '' && (typeof opts.value !== 'object' || Array.isArray(opts.value) || opts.value === null) ? 'options must be a JSON object' : '');
    message.className = 'error';
    if (error) return void (message.textContent = error);
    try {
      const r = await api('queues/' + enc(q) + '/add', { name: byId('add-name').value, data: byId('add-data').value, opts: byId('add-opts').value });
      message.className = 'ok';
      message.replaceChildren('Added job ', el('a', { href: jobHref(q, r.id), 'data-testid': 'added-job' }, r.id), '.');
      onAdded();
    } catch (err) { message.textContent = err.message; }
  } },
    el('label', { for: 'add-name' }, 'name'), el('input', { id: 'add-name', required: true, 'data-testid': 'add-name' }),
    el('label', { for: 'add-data' }, 'data (JSON)'), el('textarea', { id: 'add-data', placeholder: '{"to": "ops@example.com"}', 'data-testid': 'add-data' }),
    el('label', { for: 'add-opts' }, 'options (JSON)'), el('textarea', { id: 'add-opts', placeholder: '{"delay": 60000, "attempts": 3, "priority": 1}', 'data-testid': 'add-opts' }),
    el('span'), el('div', {}, el('button', { type: 'submit', 'data-testid': 'add-submit' }, 'Add job'), message));
}

function renderQueuePanels(info) {
  const q = info.name;
  fill(byId('q-workers'), info.workers.length === 0 ? el('p', { class: 'muted' }, 'No live workers (a worker is listed while its heartbeat is under 30 s old).') :
    el('table', {}, el('thead', {}, el('tr', {}, ['name', 'host', 'pid', 'running jobs', 'last heartbeat', 'started'].map((h) => el('th', {}, h)))),
      el('tbody', {}, info.workers.map((w) => el('tr', { 'data-worker': w.id },
        el('td', {}, w.name || el('span', { class: 'muted' }, '(unnamed)')), el('td', {}, w.host), el('td', {}, w.pid ?? ''),
        el('td', { 'data-testid': 'worker-running' }, w.running === undefined ? '?' : String(w.running), ' ',
          w.runningIds.slice(0, 10).map((id) => [el('a', { href: jobHref(q, id) }, '#' + id), ' '])),
        el('td', {}, rel(w.heartbeat)), el('td', { title: time(w.started) }, rel(w.started)))))));
  fill(byId('q-schedulers'), info.schedulers.length === 0 ? el('p', { class: 'muted' }, 'No job schedulers.') : [
    el('table', {}, el('thead', {}, el('tr', {}, ['key', 'job name', 'repeats', 'next run', 'runs so far'].map((h) => el('th', {}, h)))),
      el('tbody', {}, info.schedulers.map((s) => el('tr', { 'data-scheduler': s.key },
        el('td', {}, s.key), el('td', {}, s.name),
        el('td', {}, s.pattern ? s.pattern + (s.tz ? ' (' + s.tz + ')' : '') : s.every ? 'every ' + s.every + ' ms' : ''),
        el('td', { 'data-testid': 'scheduler-next' }, timeRel(s.next)), el('td', { class: 'num' }, s.iterationCount ?? ''))))),
    info.schedulerCount > info.schedulers.length ? el('p', { class: 'muted' }, 'first ' + info.schedulers.length + ' of ' + info.schedulerCount) : ''] );
  fill(byId('q-groups'), info.groups.length === 0 ? el('p', { class: 'muted' }, 'No groups.') : [
    el('table', {}, el('thead', {}, el('tr', {}, ['group', 'waiting', 'active', 'status', 'limits'].map((h) => el('th', {}, h)))),
      el('tbody', {}, info.groups.map((g) => el('tr', { 'data-group': g.id },
        el('td', {}, g.id), el('td', { class: 'num' }, g.waiting, ' ', g.jobIds.map((id) => [el('a', { href: jobHref(q, id) }, '#' + id), ' '])), el('td', { class: 'num' }, g.active),
        el('td', {}, g.paused ? 'paused' : g.limitedUntil ? 'rate limited ' + rel(g.limitedUntil).replace('in ', 'for ') : 'ready'),
        el('td', {}, [g.concurrency !== undefined ? 'concurrency ' + g.concurrency : '', g.limit ? g.limit.max + ' per ' + g.limit.duration + ' ms' : ''].filter(Boolean).join(', ')))))),
    info.moreGroups ? el('p', { class: 'muted' }, 'first ' + info.groups.length + ' groups') : '',
    el('p', { class: 'muted' }, 'A group’s waiting jobs are counted and listed here (next ones linked), not in the waiting tab.')]);
}
`;
