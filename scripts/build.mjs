// Builds the package into dist/ (see docs/architecture.md "The package"):
//   dist/cjs/   the implementation, CommonJS (esbuild, one file per source file) with the .d.ts files (tsc)
//               and the Lua scripts; a package.json {"type":"commonjs"} marks the folder.
//   dist/esm/   one ES module per public entry point, re-exporting dist/cjs.
// `import` and `require` therefore load the same module instances: no dual-package hazard.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';

const require = createRequire(import.meta.url);
const esbuild = require('esbuild');

/** Public entry points: subpath → module under src/ (without extension). Keep in step with package.json "exports". */
export const ENTRIES = {
  '.': 'index',
  './dashboard': 'dashboard/dashboard',
};

const CJS = 'dist/cjs';
const ESM = 'dist/esm';

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

rmSync('dist', { recursive: true, force: true });

// Declarations, beside the CommonJS files they describe (one set of types for both conditions).
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
  stdio: 'inherit',
});

// `import.meta.url` does not exist in CommonJS: each file computes its own from __filename.
await esbuild.build({
  entryPoints: sources('src'),
  outdir: CJS,
  outbase: 'src',
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  tsconfig: 'tsconfig.build.json',
  define: { 'import.meta.url': '__docketModuleUrl' },
  banner: { js: '"use strict";\nvar __docketModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
});
writeFileSync(join(CJS, 'package.json'), '{ "type": "commonjs" }\n');

// The Redis store reads its Lua scripts at run time, beside its compiled module.
cpSync('src/store/redis/scripts', join(CJS, 'store/redis/scripts'), { recursive: true });

for (const module of Object.values(ENTRIES)) {
  const file = join(ESM, `${module}.js`);
  mkdirSync(join(file, '..'), { recursive: true });
  const target = relative(join(file, '..'), join(CJS, `${module}.js`)).replaceAll('\\', '/');
  writeFileSync(file, `export * from '${target.startsWith('.') ? target : `./${target}`}';\n`);
}

// Written last: test/package/support/package-setup.ts rebuilds when a source is newer than this.
writeFileSync('dist/build-info.json', `${JSON.stringify({ builtAt: new Date().toISOString() })}\n`);
