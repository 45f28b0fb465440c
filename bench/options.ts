import { parseArgs } from 'node:util';
import { SCENARIOS } from './scenarios/index.js';
import type { Scenario } from './scenarios/scenario.js';
import { EXTRA_SYSTEMS, SYSTEMS, type SystemName } from './types.js';

export interface RunOptions {
  quick: boolean;
  scenarios: Scenario[];
  systems: SystemName[];
  rounds: number;
  scaleSize: number;
  /** Write bench/RESULTS.md (default: only for a run of every scenario on every default system). */
  write: boolean;
  note?: string;
  /** Extra node flags for every child (e.g. `--cpu-prof`). */
  nodeArgs: string[];
  json?: string;
  docketFrom: 'src' | 'dist';
}

export const USAGE = `npm run bench -- [options]
  --quick                 small sizes, 2 rounds, scale with 20 000 background jobs (≈5 min)
  --only <a,b>            scenarios by name or prefix (${SCENARIOS.map((s) => s.name).join(', ')})
  --systems <a,b>         ${[...SYSTEMS, ...EXTRA_SYSTEMS].join(', ')}
  --rounds <n>            rounds per scenario (default 3, quick 2; scale runs once)
  --scale-size <n>        background jobs of the scale scenarios (default 1 000 000, quick 20 000)
  --write / --no-write    write bench/RESULTS.md (default: only when every scenario and system ran)
  --note <text>           a note for RESULTS.md (e.g. "machine busy")
  --json <path>           also write every raw measurement as JSON
  --docket-from <dist|src>  load Docket compiled from dist/ (default; \`npm run bench\` builds it first,
                          as the references are compiled JS too) or from src/ through tsx
  --node-arg <flag>       extra node flag for each child (repeatable), e.g.
                          --node-arg=--cpu-prof --node-arg=--cpu-prof-dir=/tmp/prof`;

export function parseOptions(argv: string[]): RunOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      systems: { type: 'string' },
      rounds: { type: 'string' },
      'scale-size': { type: 'string' },
      write: { type: 'boolean' },
      'no-write': { type: 'boolean' },
      note: { type: 'string' },
      json: { type: 'string' },
      'node-arg': { type: 'string', multiple: true },
      'docket-from': { type: 'string', default: 'dist' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const scenarios = values.only ? selectScenarios(values.only) : SCENARIOS;
  const known: readonly string[] = [...SYSTEMS, ...EXTRA_SYSTEMS];
  const systems = values.systems ? (values.systems.split(',').map((s) => s.trim()) as SystemName[]) : [...SYSTEMS];
  for (const s of systems) if (!known.includes(s)) throw new Error(`unknown system ${s}; known: ${known.join(', ')}`);
  const complete = !values.only && !values.systems;
  const docketFrom = values['docket-from'];
  if (docketFrom !== 'src' && docketFrom !== 'dist') throw new Error('--docket-from must be src or dist');
  return {
    quick,
    scenarios,
    systems,
    rounds: positive(values.rounds, quick ? 2 : 3, '--rounds'),
    scaleSize: positive(values['scale-size'], quick ? 20_000 : 1_000_000, '--scale-size'),
    write: values['no-write'] ? false : (values.write ?? complete),
    note: values.note,
    nodeArgs: values['node-arg'] ?? [],
    json: values.json,
    docketFrom,
  };
}

function selectScenarios(spec: string): Scenario[] {
  const wanted = spec.split(',').map((s) => s.trim());
  // An exact name selects that scenario; otherwise a name selects its family (`process` → process-*).
  const matches = (name: string, w: string) =>
    SCENARIOS.some((s) => s.name === w) ? name === w : name.startsWith(`${w}-`);
  const picked = SCENARIOS.filter((s) => wanted.some((w) => matches(s.name, w)));
  if (picked.length === 0) throw new Error(`--only ${spec} matches no scenario\n${USAGE}`);
  return picked;
}

function positive(text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer`);
  return n;
}
