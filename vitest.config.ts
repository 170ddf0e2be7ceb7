import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * At least two test files at once. Vitest's default (CPUs - 1) is one worker on a 2-core machine, and the integration
 * files mostly wait (on PostgreSQL, Redis, the broker, HSI child processes, idle timers): with two workers the whole
 * suite took 485 s instead of 786 s on the 2-core CI machine, all 1,249 tests passing (2026-12-06).
 */
const workers = Math.max(2, availableParallelism() - 1);

export default defineConfig({
  test: {
    // Native addons (sharp, onnxruntime) and child processes behave best in forked workers.
    pool: 'forks',
    maxWorkers: workers,
    minWorkers: 1,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.int.test.ts'],
          environment: 'node',
          // Each file uses its own database, queue prefix and topics on the shared services; its database is a
          // copy of the migrated templates that the global setup makes once per run.
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
