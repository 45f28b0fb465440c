/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof` or bench/profile.ts): self and inclusive
 * time per function, and self time per area (Docket file, library, node internals, GC).
 * Usage: `npx tsx bench/cpuprofile.ts <file.cpuprofile> [top]`, or
 * `npx tsx bench/cpuprofile.ts <file.cpuprofile> --callers <functionName> [depth]` for the call paths
 * that lead to a function, weighted by its inclusive time.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Sampled time the thread was idle (waiting for I/O): the process was not the bottleneck then. */
  idleMs: number;
  /** ms of self time per area, largest first. */
  areas: [string, number][];
  self: [string, number][];
  inclusive: [string, number][];
}

/** Where a frame's code lives, for grouping. */
function area(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : `native ${fn || '(anonymous)'}`;
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (mod) return mod[1];
  const src = /\/(src|bench|dist\/cjs)\/(.+)$/.exec(url);
  if (src) return `${src[1]}/${src[2]}`;
  if (url.startsWith('node:')) return url.replace(/^node:internal\//, 'node:').replace(/\/.*$/, '');
  return url;
}

function label(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = area(url, functionName);
  return `${functionName || '(anonymous)'} ${url ? `${where}:${lineNumber + 1}` : ''}`.trim();
}

function top(map: Map<string, number>, n: number): [string, number][] {
  return [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
}

export function summarise(file: string, n = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of p.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const ms = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(p.samples[i]);
    if (!node) continue;
    if (node.callFrame.functionName === '(idle)') {
      idle += ms;
      continue;
    }
    total += ms;
    self.set(label(node), (self.get(label(node)) ?? 0) + ms);
    const a = area(node.callFrame.url, node.callFrame.functionName);
    areas.set(a, (areas.get(a) ?? 0) + ms);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!;
      if (frame.callFrame.functionName === '(root)') continue;
      const key = label(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + ms);
    }
  }
  return { totalMs: total, idleMs: idle, areas: top(areas, n), self: top(self, n), inclusive: top(inclusive, n) };
}

export function renderSummary(s: ProfileSummary, perJobDivisor?: number): string {
  const pct = (ms: number) => `${((ms / s.totalMs) * 100).toFixed(1)}%`;
  const per = (ms: number) => (perJobDivisor ? ` · ${((ms * 1000) / perJobDivisor).toFixed(1)} µs/job` : '');
  const rows = (list: [string, number][]) => list.map(([k, ms]) => `    ${pct(ms).padStart(6)}  ${k}${per(ms)}`);
  return [
    `  sampled CPU (non-idle): ${s.totalMs.toFixed(0)} ms; idle ${s.idleMs.toFixed(0)} ms (${((s.idleMs / (s.idleMs + s.totalMs)) * 100).toFixed(0)}% of the section)`,
    '  self time by area:',
    ...rows(s.areas),
    '  self time by function:',
    ...rows(s.self),
    '  inclusive time by function:',
    ...rows(s.inclusive),
  ].join('\n');
}

/** Call paths (callers, `depth` frames up) into `fn`, with the inclusive ms spent in `fn` below them. */
export function callers(file: string, fn: string, depth = 4): { totalMs: number; paths: [string, number][] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of p.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const paths = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    let hit: number | undefined;
    for (let id: number | undefined = p.samples[i]; id !== undefined && hit === undefined; id = parent.get(id)) {
      if (byId.get(id)?.callFrame.functionName === fn) hit = id;
    }
    if (hit === undefined) continue;
    const ms = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000;
    total += ms;
    const chain: string[] = [];
    for (let id = parent.get(hit), d = 0; id !== undefined && d < depth; id = parent.get(id), d++) {
      chain.push(label(byId.get(id)!));
    }
    const key = chain.join(' ← ');
    paths.set(key, (paths.get(key) ?? 0) + ms);
  }
  return { totalMs: total, paths: top(paths, 10) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, flag, arg, depth] = process.argv.slice(2);
  if (!file) {
    console.error('usage: npx tsx bench/cpuprofile.ts <file.cpuprofile> [top] | --callers <fn> [depth]');
    process.exit(2);
  }
  if (flag === '--callers') {
    const c = callers(file, arg, Number(depth ?? 4));
    console.log(`${arg}: ${c.totalMs.toFixed(1)} ms inclusive`);
    for (const [path, ms] of c.paths) console.log(`  ${ms.toFixed(1).padStart(8)} ms  ${path}`);
  } else {
    console.log(renderSummary(summarise(file, Number(flag ?? 25))));
  }
}
