import { sql } from 'kysely';
import type { Db } from '../../src/storage/database.js';

export interface ExactlyOnceReport {
  files: number;
  byStatus: Record<string, number>;
  /** Files whose stored detection rows differ from the count recorded when they were marked done. */
  mismatched: { id: number; recorded: number; stored: number }[];
  /** Files with at least one person detection. */
  personFiles: number;
}

/** What "every file exactly once, no duplicate detections" means, read straight from the database. */
export async function verifyExactlyOnce(db: Db): Promise<ExactlyOnceReport> {
  const status = await db
    .selectFrom('media_files')
    .select(['status', sql<number>`count(*)::int`.as('n')])
    .groupBy('status')
    .execute();
  const mismatched = await sql<{ id: number; recorded: number; stored: number }>`
    SELECT m.id, m.detection_count AS recorded, count(d.id)::int AS stored
    FROM media_files m LEFT JOIN detections d ON d.media_file_id = m.id
    GROUP BY m.id HAVING count(d.id) <> m.detection_count ORDER BY m.id`.execute(db);
  const persons = await sql<{ n: number }>`
    SELECT count(DISTINCT media_file_id)::int AS n FROM detections WHERE object_type = 'person'`.execute(db);
  return {
    files: status.reduce((acc, r) => acc + r.n, 0),
    byStatus: Object.fromEntries(status.map((r) => [r.status, r.n])),
    mismatched: mismatched.rows,
    personFiles: persons.rows[0]?.n ?? 0,
  };
}
