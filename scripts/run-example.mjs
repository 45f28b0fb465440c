// `npm run example -- <name>` runs examples/<name>.ts with tsx (the embedded store by default).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const name = process.argv[2];
const file = name && `examples/${name.replace(/\.ts$/, '')}.ts`;
if (!file || !existsSync(file)) {
  const names = readdirSync('examples').map((f) => f.replace(/\.ts$/, ''));
  console.error(`Usage: npm run example -- <name>\nExamples: ${names.join(', ')}`);
  process.exit(2);
}
const run = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
process.exit(run.status ?? 1);
