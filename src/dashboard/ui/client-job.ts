/**
 * One job's page (browser side), reached by its own URL: data, options, return value, progress,
 * logs, every attempt's stack trace, timestamps ("runs in 3 m"), group, durable steps, parent and
 * children with links, and the actions its state allows.
 */
export const CLIENT_JOB = String.raw`
const ACTION_LABELS = { retry: 'Retry', promote: 'Promote (run now)', cancel: 'Cancel', remove: 'Remove' };

function flowTree(node, currentId) {
  return el('li', {},
    el('a', { href: jobHref(node.queueName, node.id) }, node.queueName + ' / ' + (node.name || '') + ' #' + node.id),
    ' ', el('span', { class: 'state-' + node.state }, node.state), node.id === currentId ? ' ◀ this job' : '',
    node.children.length ? el('ul', { class: 'flow' }, node.children.map((c) => flowTree(c, currentId))) : '');
}

function jobButtons(job, path) {
  return job.actions.map((a) => el('button', { 'data-testid': 'job-' + a, onclick: () => {
    if (a === 'remove' && !confirm('Remove job ' + job.id + '?')) return;
    if (a === 'cancel' && !confirm('Cancel job ' + job.id + '? It fails at once, without retry' + (job.state === 'active' ? ', and its worker stops it.' : '.'))) return;
    act(path + a);
  } }, ACTION_LABELS[a] || a));
}

function progressCell(progress) {
  if (typeof progress === 'number') return [el('progress', { max: 100, value: Math.max(0, Math.min(100, progress)) }), ' ' + progress + ' %'];
  return progress === undefined || progress === 0 ? '–' : JSON.stringify(progress);
}

function renderJob(job) {
  const q = VIEW.queue;
  const path = 'queues/' + enc(q) + '/jobs/' + enc(job.id) + '/';
  const rows = [
    ['state', el('span', { class: 'state-' + job.state }, job.state)],
    ['attempts', job.attemptsMade + ' made, ' + job.attemptsStarted + ' started' + (job.opts.attempts ? ' (of ' + job.opts.attempts + ')' : '') + (job.stalledCounter ? ', stalled ' + job.stalledCounter + '×' : '')],
    ['created', timeRel(job.timestamp)],
    job.runsAt ? ['runs', timeRel(job.runsAt)] : null,
    ['processed', timeRel(job.processedOn) + (job.processedBy ? ' by ' + job.processedBy : '')],
    ['finished', timeRel(job.finishedOn)],
    ['progress', progressCell(job.progress)],
    job.priority ? ['priority', String(job.priority)] : null,
    job.group ? ['group', job.group] : null,
    job.parent ? ['parent', el('a', { href: jobHref(job.parent.queueName, job.parent.id) }, job.parent.queueName + ' #' + job.parent.id)] : null,
    ['failed reason', job.failedReason ? el('span', { class: 'hot' }, job.failedReason) : '–'],
  ].filter(Boolean);
  const steps = Object.entries(job.steps);
  fill(byId('app'), el('section', {},
    el('h2', {}, 'Job ' + job.id + ' (' + job.name + ') in ', el('a', { href: queueHref(q, { state: job.state }) }, q)),
    READ_ONLY ? el('p', { class: 'muted' }, 'read-only') : el('div', { class: 'actions' }, jobButtons(job, path)),
    el('table', {}, el('tbody', {}, rows.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', { 'data-testid': 'job-' + k.replace(' ', '-') }, v))))),
    el('h3', {}, 'Data'), el('pre', { 'data-testid': 'job-data' }, json(job.data)),
    el('h3', {}, 'Options'), el('pre', { 'data-testid': 'job-opts' }, json(job.opts)),
    job.state === 'completed' ? [el('h3', {}, 'Return value'), el('pre', { 'data-testid': 'job-returnvalue' }, json(job.returnvalue))] : '',
    el('h3', {}, 'Stack traces (' + job.stacktrace.length + ')'),
    job.stacktrace.length ? job.stacktrace.map((s, i) => [el('div', { class: 'muted' }, 'failed attempt ' + (i + 1) + (job.stacktrace.length > 1 && i === job.stacktrace.length - 1 ? ' (latest)' : '')),
      el('pre', { 'data-testid': 'job-stack' }, s)]) : el('p', { class: 'muted' }, 'none'),
    el('h3', {}, 'Durable steps (' + steps.length + ' recorded)'),
    steps.length ? el('table', { 'data-testid': 'job-steps' }, el('tbody', {}, steps.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, el('pre', {}, json(v)))))))
      : el('p', { class: 'muted' }, 'none'),
    el('h3', {}, 'Logs (' + job.logs.length + ')'), el('pre', { 'data-testid': 'job-logs' }, job.logs.join('\n') || '–'),
    job.children.length ? [el('h3', {}, 'Children (' + job.children.length + ')'), el('table', { 'data-testid': 'job-children' }, el('tbody', {},
      job.children.map((c) => el('tr', {}, el('td', {}, el('a', { href: jobHref(c.queueName, c.id) }, c.queueName + ' #' + c.id)), el('td', {}, c.status),
        el('td', {}, c.value === undefined ? '' : JSON.stringify(c.value))))))] : '',
    job.flow ? [el('h3', {}, 'Flow'), el('ul', { class: 'flow', 'data-testid': 'job-flow' }, flowTree(job.flow, job.id))] : '',
  ));
}

function jobPage() {
  fill(byId('app'), el('section', {}, 'loading…'));
  return async () => {
    try {
      renderJob(await api('queues/' + enc(VIEW.queue) + '/jobs/' + enc(VIEW.id)));
    } catch (err) {
      fill(byId('app'), el('section', { 'data-testid': 'job-missing' }, el('p', {}, err.message), el('a', { href: queueHref(VIEW.queue) }, 'back to ' + VIEW.queue)));
    }
  };
}
`;
