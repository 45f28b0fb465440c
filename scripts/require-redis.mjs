// `npm test` needs redis-server (every Redis test) and redis-cli (the cluster tests create a Redis Cluster with
// `redis-cli --cluster create`): stop at once, saying how to install them, when one is missing.
import { spawnSync } from 'node:child_process';

const missing = ['redis-server', 'redis-cli'].filter((binary) => {
  const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return probe.error || probe.status !== 0;
});
if (missing.length > 0) {
  console.error(
    `The tests start their own redis-server and Redis Cluster, but ${missing.map((b) => `\`${b}\``).join(' and ')} ` +
      `${missing.length > 1 ? 'are' : 'is'} not on PATH.\n` +
      'Install Redis 7 first, e.g. `sudo apt-get install -y redis-server` (Debian/Ubuntu; it brings redis-cli) ' +
      'or `brew install redis` (macOS).',
  );
  process.exit(1);
}
