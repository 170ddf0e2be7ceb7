import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logger.js';
import { migrate, readMigrations } from '../../../src/storage/migrate.js';
import { createTestStore, ENGINES, engineUnavailable, type TestStore } from '../../support/stores.js';

const ACTOR_MIGRATION = 5;

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} alert actor migration tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`0005 alert actor on ${engine}`, () => {
    let t: TestStore;
    beforeAll(async () => {
      t = await createTestStore(engine, { migrate: false });
    });
    afterAll(async () => t?.dispose());

    it('names who resolved the alerts resolved before it, from the audit log', async () => {
      const all = readMigrations();
      await migrate(
        t.store,
        silentLogger(),
        all.filter((m) => m.version < ACTOR_MIGRATION),
      );
      const db = t.store.db;
      await sql`INSERT INTO cameras (id, name, folder_path) VALUES ('drive', 'Drive', 'drive')`.execute(db);
      const event = await sql<{ id: number }>`
        INSERT INTO events (batch_id, camera_id, started_at, ended_at, risk_score, risk_level, summary, analysis_source)
        VALUES ('b1', 'drive', now(), now(), 80, 'high', 'Person', 'rules') RETURNING id`.execute(db);
      const eventId = event.rows[0]?.id;
      const alert = async (status: string, key: string) =>
        (
          await sql<{ id: string }>`
            INSERT INTO alerts (event_id, severity, status, dedup_key, message)
            VALUES (${eventId}, 'high', ${status}, ${key}, 'Person') RETURNING id`.execute(db)
        ).rows[0]?.id as string;
      const acked = await alert('acknowledged', 'a');
      const dismissed = await alert('dismissed', 'b');
      const pruned = await alert('acknowledged', 'c');
      const pending = await alert('pending', 'd');
      const audit = (action: string, id: string, actor: string) =>
        sql`INSERT INTO audit_logs (action, resource_type, resource_id, actor)
            VALUES (${action}, 'alert', ${id}, ${actor})`.execute(db);
      await audit('alert.acknowledge', acked, 'mqtt');
      await audit('alert.dismiss', dismissed, 'api:ingress');
      await audit('alert.acknowledge', pending, 'api'); // an audit row does not resolve an alert

      expect(await migrate(t.store, silentLogger(), all)).toStrictEqual(
        all.filter((m) => m.version >= ACTOR_MIGRATION).map((m) => m.version),
      );
      const rows = await sql<{ id: string; acknowledged_by: string | null; dismissed_by: string | null }>`
        SELECT id, acknowledged_by, dismissed_by FROM alerts`.execute(db);
      const by = Object.fromEntries(rows.rows.map((r) => [r.id, [r.acknowledged_by, r.dismissed_by]]));
      expect(by).toStrictEqual({
        [acked]: ['mqtt', null],
        [dismissed]: [null, 'api:ingress'],
        [pruned]: [null, null],
        [pending]: [null, null],
      });
    });
  });
}
