import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Native addons (sharp, onnxruntime) and child processes behave best in forked workers.
    pool: 'forks',
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
