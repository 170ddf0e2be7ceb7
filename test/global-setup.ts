import { services } from './support/env.js';
import { serviceDown } from './support/services.js';
import {
  ensurePgliteTemplate,
  ensurePostgresTemplate,
  schemaHash,
  TEMPLATES_ENV,
  type Templates,
} from './support/templates.js';

/**
 * Once per integration run: the migrated template databases that `test/support/stores.ts` and `hsi.ts` copy for
 * each test file (see `templates.ts`). Without PostgreSQL (and without REQUIRE_SERVICES) there is no PostgreSQL
 * template, as the PostgreSQL tests skip. The locations reach the forked test workers through the environment.
 */
export default async function setup(): Promise<void> {
  const started = performance.now();
  const hash = schemaHash();
  const made: Templates = { pglite: await ensurePgliteTemplate(hash) };
  if ((await serviceDown('PostgreSQL', services.postgresUrl, 5432)) === undefined) {
    made.postgres = await ensurePostgresTemplate(hash);
  }
  process.env[TEMPLATES_ENV] = JSON.stringify(made);
  if (process.env.HSI_TEST_TEMPLATES_VERBOSE === '1') {
    console.log(`test templates ${hash} ready in ${Math.round(performance.now() - started)} ms`, made);
  }
}
