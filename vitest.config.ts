import { defineConfig } from 'vitest/config';

const common = {
  globalSetup: ['test/support/global-setup.ts'],
  setupFiles: ['test/support/leak-check.ts'],
  testTimeout: 30_000,
  hookTimeout: 30_000,
};

export default defineConfig({
  test: {
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { ...common, name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/package/**'] },
      },
      {
        // Docket as a user installs it: packed, installed beside @nestjs/bullmq, bull-board and bullmq-otel.
        // Its global setup (build, pack, npm install) runs only when one of these files is selected.
        extends: true,
        test: {
          ...common,
          name: 'package',
          include: ['test/package/**/*.test.ts'],
          globalSetup: [...common.globalSetup, 'test/package/support/package-setup.ts'],
          hookTimeout: 180_000,
          testTimeout: 60_000,
        },
      },
    ],
  },
});
