/**
 * The overview page (browser side): per queue its counts per state (failures highlighted), its
 * stalled jobs of the last hour and a small inline-SVG chart of jobs finished per minute.
 */
export const CLIENT_OVERVIEW = `
/** 60 stacked bars, completed (green) under failed (red), scaled to the busiest minute. */
function throughputChart(t) {
  const W = 180, H = 36, n = t.completed.length, bw = W / n;
  let max = 1;
  for (let i = 0; i < n; i++) max = Math.max(max, t.completed[i] + t.failed[i]);
  const bars = [];
  for (let i = 0; i < n; i++) {
    const c = (t.completed[i] / max) * H, f = (t.failed[i] / max) * H;
    const at = new Date(t.since + i * 60e3).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    const tip = svg('title', {}, at + ': ' + t.completed[i] + ' completed, ' + t.failed[i] + ' failed');
    if (c > 0) bars.push(svg('rect', { class: 'c', x: (i * bw).toFixed(2), y: (H - c).toFixed(2), width: Math.max(1, bw - 0.5).toFixed(2), height: c.toFixed(2) }, tip));
    if (f > 0) bars.push(svg('rect', { class: 'f', x: (i * bw).toFixed(2), y: (H - c - f).toFixed(2), width: Math.max(1, bw - 0.5).toFixed(2), height: f.toFixed(2) }, tip.cloneNode(true)));
  }
  return svg('svg', { class: 'chart', width: W, height: H + 1, viewBox: '0 0 ' + W + ' ' + (H + 1), role: 'img',
    'aria-label': 'jobs finished per minute over the last hour' },
    svg('line', { x1: 0, y1: H + 0.5, x2: W, y2: H + 0.5 }), bars);
}

const sum = (xs) => xs.reduce((a, b) => a + b, 0);

function renderOverview(data) {
  const box = byId('overview');
  if (data.queues.length === 0) {
    box.replaceChildren(el('p', { class: 'muted' }, data.listed ? 'No queues yet.' : 'This store cannot list queues: start the dashboard with the queue names.'));
    return;
  }
  box.replaceChildren(el('table', { 'data-testid': 'queues' },
    el('thead', {}, el('tr', {}, el('th', {}, 'queue'), STATES.map((s) => el('th', { class: 'num' }, s)),
      el('th', { class: 'num' }, 'stalled (1 h)'), el('th', {}, 'finished per minute, last hour'))),
    el('tbody', {}, data.queues.map((q) => {
      const t = q.throughput;
      return el('tr', { 'data-queue': q.name },
        el('td', {}, el('a', { href: queueHref(q.name), 'data-testid': 'queue-' + q.name }, q.name),
          ' ', q.paused ? el('span', { class: 'badge paused', 'data-testid': 'paused-' + q.name }, 'paused') : ''),
        STATES.map((s) => {
          const n = q.counts[s] || 0;
          const hot = s === 'failed' && n > 0;
          return el('td', { class: 'num' + (hot ? ' hot' : '') },
            el('a', { href: queueHref(q.name, { state: s }), class: hot ? 'hot' : undefined, 'data-testid': 'count-' + q.name + '-' + s }, String(n)));
        }),
        el('td', { class: 'num' + (q.stalled.count ? ' hot' : ''), title: 'stalled in the last hour' + (q.stalled.jobIds.length ? ', the newest: ' + q.stalled.jobIds.join(', ') : ''),
          'data-testid': 'stalled-' + q.name }, String(q.stalled.count),
          q.stalled.jobIds.length ? el('div', {}, q.stalled.jobIds.slice(0, 3).map((id) => [el('a', { href: jobHref(q.name, id) }, '#' + id), ' '])) : ''),
        el('td', { 'data-testid': 'throughput-' + q.name },
          throughputChart(t),
          el('div', { class: 'muted' }, sum(t.completed) + ' completed, ',
            el('span', { class: sum(t.failed) ? 'hot' : undefined }, sum(t.failed) + ' failed'),
            ' in the last hour' + (t.source === 'recorded+metrics' ? " (with the workers' metrics)" : ''))),
      );
    })),
  ));
}

function overviewPage() {
  fill(byId('app'), el('section', {}, el('h2', {}, 'Queues'), el('div', { id: 'overview' }, 'loading…')));
  return async () => renderOverview(await api('queues'));
}
`;
