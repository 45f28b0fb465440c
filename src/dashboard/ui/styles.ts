/** The dashboard's stylesheet: one file, no framework. */
export const STYLES = `
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #f6f7f9; }
  header { background: #1f2937; color: #fff; padding: 10px 16px; display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; }
  header a { color: #fff; }
  #status { color: #fca5a5; }
  .crumbs { color: #d1d5db; }
  .crumbs a { color: #d1d5db; }
  main { padding: 16px; display: grid; gap: 16px; }
  section { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; padding: 12px; overflow-x: auto; }
  h2 { margin: 0 0 8px; font-size: 17px; } h3 { margin: 12px 0 4px; font-size: 15px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
  th { font-weight: 600; color: #555; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  a { color: #2563eb; text-decoration: none; }
  a:hover { text-decoration: underline; }
  .tabs { display: flex; gap: 4px; flex-wrap: wrap; margin: 8px 0; }
  .tabs a { padding: 4px 10px; border-radius: 14px; background: #eef2f7; color: #333; }
  .tabs a.current { background: #1f2937; color: #fff; }
  .tabs a.hot { background: #fee2e2; color: #991b1b; }
  .tabs a.hot.current { background: #b91c1c; color: #fff; }
  .badge { font-size: 12px; padding: 1px 6px; border-radius: 8px; background: #e5e7eb; }
  .badge.paused { background: #fde68a; }
  .badge.ro { background: #fde68a; color: #111; }
  .hot { color: #b91c1c; font-weight: 700; }
  td.hot { background: #fee2e2; }
  .state-failed { color: #b91c1c; } .state-completed { color: #15803d; } .state-active { color: #1d4ed8; }
  .state-delayed { color: #92400e; }
  pre { background: #f3f4f6; padding: 8px; border-radius: 4px; white-space: pre-wrap; word-break: break-word; margin: 4px 0 12px; max-height: 420px; overflow: auto; }
  button { margin-right: 6px; cursor: pointer; }
  .actions { margin: 8px 0; display: flex; gap: 6px; flex-wrap: wrap; align-items: center; }
  form.filters { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; margin: 8px 0; }
  form.add { display: grid; grid-template-columns: 90px minmax(200px, 600px); gap: 6px 8px; align-items: start; }
  form.add textarea { font: 12px/1.4 ui-monospace, monospace; min-height: 60px; }
  .error { color: #b91c1c; white-space: pre-wrap; }
  .ok { color: #15803d; }
  ul.flow { margin: 0; padding-left: 18px; }
  .muted { color: #888; }
  .grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 16px; }
  svg.chart rect.c { fill: #16a34a; } svg.chart rect.f { fill: #dc2626; } svg.chart line { stroke: #d1d5db; }
  progress { width: 160px; }
`;
