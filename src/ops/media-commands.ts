import { detectionQueueOf, queueFactoryFor } from '../adapters.js';
import type { Config } from '../config/schema.js';
import { detectionJobId } from '../ingest/ingest.service.js';
import { systemClock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { Store } from '../storage/database.js';
import { countByStatus, listFailed, requeueFailed } from '../storage/media-file.repository.js';
import { countRejectionsByCode } from '../storage/media-rejection.repository.js';

/** Operator commands over the media inbox: what `hsi status`, `hsi dead-letters` and `hsi requeue` print. */

/**
 * Media files per status, then the uploads refused before they got a row (they are in no status: ingest keeps
 * them in `media_rejections`), with their codes.
 */
export async function showStatus(store: Store, out: NodeJS.WritableStream): Promise<void> {
  const counts = await countByStatus(store.db);
  for (const [status, n] of Object.entries(counts)) out.write(`${status.padEnd(11)} ${n}\n`);
  const refused = await countRejectionsByCode(store.db);
  const total = refused.reduce((sum, r) => sum + r.n, 0);
  const codes = refused.map((r) => `${r.code} ${r.n}`).join(', ');
  out.write(
    `${'refused'.padEnd(11)} ${total}${total > 0 ? `  (uploads refused before they got a row: ${codes})` : ''}\n`,
  );
}

export async function listDeadLetters(store: Store, out: NodeJS.WritableStream): Promise<void> {
  const rows = await listFailed(store.db, 1000);
  if (rows.length === 0) {
    out.write('no dead letters\n');
    return;
  }
  for (const row of rows) {
    out.write(`${row.id}\t${row.camera_id}\t${row.path}\tattempts=${row.attempts}\t${row.error_code}: ${row.error}\n`);
  }
}

/**
 * Puts failed files back to `queued`. With Redis configured the jobs are queued at once for the running workers;
 * on embedded backends the service picks them up at its next start (it owns the in-process queue).
 */
export async function requeueDeadLetters(
  store: Store,
  config: Config,
  log: Logger,
  which: { all: boolean; ids: number[] },
  out: NodeJS.WritableStream,
): Promise<void> {
  if (!which.all && which.ids.length === 0) {
    out.write('name the ids to requeue (see `hsi dead-letters`), or pass --all\n');
    return;
  }
  if (which.ids.some((id) => !Number.isInteger(id) || id <= 0)) throw new Error('ids must be positive integers');
  const rows = await requeueFailed(store.db, which.all ? undefined : which.ids);
  if (config.redis.url !== '' && rows.length > 0) {
    const factory = queueFactoryFor(config, log, systemClock);
    const queue = detectionQueueOf(factory, config);
    try {
      for (const row of rows) {
        const job = { mediaFileId: row.id, cameraId: row.camera_id, path: row.path, queuedAt: Date.now() };
        const moved = await queue.requeue(detectionJobId(row.id));
        if (!moved) await queue.add(job, { jobId: detectionJobId(row.id) });
      }
    } finally {
      await factory.close();
    }
    out.write(`requeued ${rows.length} file(s)\n`);
    return;
  }
  out.write(`requeued ${rows.length} file(s)${rows.length > 0 ? '; they are processed when HSI (re)starts' : ''}\n`);
}
