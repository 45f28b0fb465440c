/**
 * One queue's page (browser side): state tabs, a search by id/name/data text with a time range,
 * the paged job list with bulk select (retry, remove, promote) and the queue-wide actions. Its
 * panels (add form, workers, schedulers, groups) are in client-queue-panels.
 */
export const CLIENT_QUEUE = `
const PAGE_SIZE = 20;
const RANGES = { '': 'any time', '15m': 'last 15 min', '1h': 'last hour', '24h': 'last 24 h', '7d': 'last 7 days', custom: 'from … to …' };
const RANGE_MS = { '15m': 15 * 60e3, '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3 };
/** Bulk actions each state allows (the API checks each job again). */
const BULK = { failed: ['retry', 'remove'], completed: ['retry', 'remove'], delayed: ['promote', 'remove'],
  waiting: ['remove'], prioritized: ['remove'], 'waiting-children': ['remove'], active: [] };

function queueParams() {
  const p = new URLSearchParams(location.search);
  const state = STATES.includes(p.get('state')) ? p.get('state') : 'waiting';
  return { state, page: Math.max(1, Number(p.get('page')) || 1), search: p.get('search') || '', range: p.get('range') || '',
    from: p.get('from') || '', to: p.get('to') || '' };
}

/** The time range as epoch ms for the API (datetime-local values are the browser's local time). */
function rangeBounds(p) {
  if (RANGE_MS[p.range]) return { from: Date.now() - RANGE_MS[p.range] };
  if (p.range !== 'custom') return {};
  const ms = (v) => (v ? new Date(v).getTime() : undefined);
  return { from: ms(p.from), to: ms(p.to) };
}

function queuePage() {
  const q = VIEW.queue, p = queueParams();
  const filtering = Boolean(p.search || p.range);
  const selected = new Set();
  let listStale = true;
  const base = 'queues/' + enc(q) + '/';

  const filters = el('form', { class: 'filters', method: 'get', action: queueHref(q), 'data-testid': 'search-form' },
    el('input', { type: 'hidden', name: 'state', value: p.state }),
    el('input', { name: 'search', value: p.search, placeholder: 'job id, name or data text', size: 30, 'data-testid': 'search' }),
    el('select', { name: 'range', 'data-testid': 'range', onchange: (e) => { byId('custom-range').hidden = e.target.value !== 'custom'; } },
      Object.entries(RANGES).map(([v, label]) => el('option', { value: v, selected: v === p.range }, label))),
    el('span', { id: 'custom-range', hidden: p.range !== 'custom' },
      el('input', { type: 'datetime-local', name: 'from', value: p.from }), ' to ',
      el('input', { type: 'datetime-local', name: 'to', value: p.to })),
    el('button', { type: 'submit', 'data-testid': 'search-go' }, 'Search'),
    filtering ? el('a', { href: queueHref(q, { state: p.state }) }, 'clear') : '',
    el('span', { class: 'muted' }, ['completed', 'failed'].includes(p.state) ? ' (time = when finished)' : ' (time = when created)'));

  const bulkButtons = READ_ONLY ? [] : (BULK[p.state] || []).map((a) => el('button', { 'data-testid': 'bulk-' + a, onclick: async () => {
    if (selected.size === 0) return status('select jobs first');
    if (a === 'remove' && !confirm('Remove ' + selected.size + ' jobs?')) return;
    try {
      const r = await api(base + 'bulk', { action: a, ids: [...selected] });
      byId('bulk-result').textContent = a + ': ' + r.done + ' done' + (r.failed.length ? ', ' + r.failed.length + ' refused: ' + r.failed.map((f) => f.error).join('; ') : '');
      status('');
    } catch (err) { status(err.message); }
    selected.clear(); listStale = true; refresh();
  } }, a[0].toUpperCase() + a.slice(1) + ' selected'));

  fill(byId('app'),
    el('section', {},
      el('h2', { id: 'q-title' }, q),
      READ_ONLY ? el('p', { class: 'muted' }, 'read-only: actions are hidden') : el('div', { class: 'actions', id: 'q-actions' }),
      el('div', { class: 'tabs', id: 'q-tabs' }),
      filters,
      el('div', { id: 'q-search-note', class: 'muted', 'data-testid': 'search-note' }),
      bulkButtons.length ? el('div', { class: 'actions' }, bulkButtons, el('span', { id: 'bulk-result', 'data-testid': 'bulk-result' })) : '',
      el('div', { id: 'q-list' }, 'loading…'),
      el('p', { id: 'q-pager' })),
    el('div', { class: 'grid2' },
      el('section', {}, el('h3', {}, 'Workers'), el('div', { id: 'q-workers', 'data-testid': 'workers' })),
      el('section', {}, el('h3', {}, 'Job schedulers'), el('div', { id: 'q-schedulers', 'data-testid': 'schedulers' })),
      el('section', {}, el('h3', {}, 'Groups'), el('div', { id: 'q-groups', 'data-testid': 'groups' })),
      READ_ONLY ? '' : el('section', {}, el('h3', {}, 'Add a job'), addJobForm(q, () => { listStale = true; refresh(); }))),
  );

  function renderTabs(info) {
    fill(byId('q-tabs'), STATES.map((s) => {
      const n = info.counts[s] || 0;
      const cls = [s === p.state ? 'current' : '', s === 'failed' && n > 0 ? 'hot' : ''].join(' ').trim();
      return el('a', { href: queueHref(q, { state: s }), class: cls || undefined, 'data-testid': 'tab-' + s }, s + ' (' + n + ')');
    }));
    fill(byId('q-title'), q, ' ', info.paused ? el('span', { class: 'badge paused', 'data-testid': 'queue-paused' }, 'paused') : '');
    if (!READ_ONLY) renderQueueActions(byId('q-actions'), base, info);
  }

  function renderList(data) {
    const note = byId('q-search-note');
    note.replaceChildren();
    if (data.search) {
      note.append('Looked at the newest ' + data.search.scanned + ' of ' + data.stateTotal + ' ' + p.state + ' jobs' +
        (data.search.complete ? ' (all of them)' : ' (a search looks within the newest ' + data.search.window + ' jobs of a state; older ones are not searched — an exact job id is found anywhere)') +
        ': ' + data.total + ' match.');
    }
    if (data.exact) note.append(el('div', { 'data-testid': 'exact' }, 'Job ', el('a', { href: jobHref(q, data.exact.id) }, data.exact.id), ' is ' + data.exact.state + '.'));
    const bulk = !READ_ONLY && (BULK[p.state] || []).length > 0;
    const visible = data.jobs.map((j) => j.id);
    for (const id of [...selected]) if (!visible.includes(id)) selected.delete(id);
    const when = p.state === 'delayed' ? 'runs' : ['completed', 'failed'].includes(p.state) ? 'finished' : p.state === 'active' ? 'started' : 'created';
    fill(byId('q-list'), data.jobs.length === 0 ? el('p', { class: 'muted' }, 'No ' + p.state + ' jobs' + (filtering ? ' match.' : '.')) :
      el('table', { 'data-testid': 'jobs' },
        el('thead', {}, el('tr', {},
          bulk ? el('th', {}, el('input', { type: 'checkbox', title: 'select all on this page', 'data-testid': 'select-all', checked: visible.length > 0 && visible.every((id) => selected.has(id)),
            onchange: (e) => { for (const id of visible) e.target.checked ? selected.add(id) : selected.delete(id); renderList(data); } })) : '',
          ['id', 'name', 'group', 'attempts', when, 'steps', 'info'].map((h) => el('th', {}, h)))),
        el('tbody', {}, data.jobs.map((j) => el('tr', { 'data-job': j.id },
          bulk ? el('td', {}, el('input', { type: 'checkbox', 'data-testid': 'select-' + j.id, checked: selected.has(j.id),
            onchange: (e) => { e.target.checked ? selected.add(j.id) : selected.delete(j.id); } })) : '',
          el('td', {}, el('a', { href: jobHref(q, j.id), 'data-testid': 'job-link' }, j.id)),
          el('td', {}, j.name), el('td', {}, j.group || ''), el('td', { class: 'num' }, j.attemptsMade),
          el('td', {}, p.state === 'delayed' ? timeRel(j.timestamp + j.delay) : p.state === 'active' ? timeRel(j.processedOn) : ['completed', 'failed'].includes(p.state) ? timeRel(j.finishedOn) : timeRel(j.timestamp)),
          el('td', { class: 'num' }, j.steps || ''),
          el('td', {}, j.failedReason ? el('span', { class: 'hot' }, j.failedReason) : j.progress ? 'progress ' + JSON.stringify(j.progress) : '',
            j.parent ? el('div', { class: 'muted' }, 'child of ' + j.parent) : ''),
        ))),
      ));
    const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
    const at = (n) => queueHref(q, { state: p.state, page: n, search: p.search, range: p.range, from: p.from, to: p.to });
    fill(byId('q-pager'),
      p.page > 1 ? el('a', { href: at(p.page - 1), 'data-testid': 'prev' }, '← prev') : '',
      ' page ' + p.page + ' of ' + pages + ' (' + data.total + ' jobs) ',
      p.page < pages ? el('a', { href: at(p.page + 1), 'data-testid': 'next' }, 'next →') : '');
  }

  function readList() {
    const b = rangeBounds(p);
    const params = new URLSearchParams({ state: p.state, page: String(p.page), pageSize: String(PAGE_SIZE) });
    if (p.search) params.set('search', p.search);
    if (b.from) params.set('from', String(b.from));
    if (b.to) params.set('to', String(b.to));
    return api(base + 'jobs?' + params.toString());
  }

  return async () => {
    // A filtered list is read again only after an action: a search reads up to 10 000 jobs.
    const wantList = !filtering || listStale;
    listStale = false;
    let info, list;
    try {
      [info, list] = await Promise.all([api('queues/' + enc(q)), wantList ? readList() : undefined]);
    } catch (err) {
      listStale = listStale || wantList;
      throw err;
    }
    renderTabs(info);
    renderQueuePanels(info);
    if (list) renderList(list);
  };
}
`;
