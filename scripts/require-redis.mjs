// `npm test` needs the redis-server binary: stop at once, saying how to install it, when it is missing.
import { spawnSync } from 'node:child_process';

const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  console.error(
    'The tests start their own redis-server, but no `redis-server` binary is on PATH.\n' +
      'Install it first, e.g. `sudo apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` (macOS).',
  );
  process.exit(1);
}
