import { CLIENT_CORE } from './client-core.js';
import { CLIENT_JOB } from './client-job.js';
import { CLIENT_OVERVIEW } from './client-overview.js';
import { CLIENT_QUEUE } from './client-queue.js';
import { CLIENT_QUEUE_PANELS } from './client-queue-panels.js';
import { STYLES } from './styles.js';

/** Which page: the overview, one queue, or one job (each has its own URL). */
export type PageView =
  | { kind: 'overview' }
  | { kind: 'queue'; queue: string }
  | { kind: 'job'; queue: string; id: string };

const attr = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Starts the page's renderer and its 2 s refresh. */
const BOOT = `
renderPage = VIEW.kind === 'job' ? jobPage() : VIEW.kind === 'queue' ? queuePage() : overviewPage();
refresh();
setInterval(refresh, 2000);
`;

/**
 * A dashboard page: static HTML and plain JS, no build step. The script renders from the JSON API
 * and polls it; user-supplied values are inserted as text, never as HTML (the view is in an
 * attribute, escaped). Links are relative to `<base>`, so the dashboard works under any mount path.
 */
export function renderPage(opts: { base: string; readOnly: boolean; store: string; view: PageView }): string {
  const { base, readOnly, store, view } = opts;
  const crumbs =
    view.kind === 'overview'
      ? ''
      : `<span class="crumbs">/ <a href="queues/${attr(encodeURIComponent(view.queue))}">${attr(view.queue)}</a>${
          view.kind === 'job' ? ` / job ${attr(view.id)}` : ''
        }</span>`;
  const title =
    view.kind === 'overview'
      ? 'Docket'
      : view.kind === 'queue'
        ? `${view.queue} · Docket`
        : `Job ${view.id} · ${view.queue} · Docket`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<base href="${attr(base)}">
<title>${attr(title)}</title>
<style>${STYLES}</style>
</head>
<body data-readonly="${readOnly}" data-view="${attr(JSON.stringify(view))}">
<header><h1><a href="./" data-testid="home">Docket</a></h1>${crumbs}<span id="store" data-testid="store">${attr(store)}</span>${
    readOnly ? '<span class="badge ro" data-testid="read-only">read-only</span>' : ''
  }<span id="updated" class="muted"></span><span id="status" data-testid="status"></span></header>
<main id="app"></main>
<script>
(() => {
${CLIENT_CORE}
${CLIENT_OVERVIEW}
${CLIENT_QUEUE_PANELS}
${CLIENT_QUEUE}
${CLIENT_JOB}
${BOOT}
})();
</script>
</body>
</html>
`;
}
