import { mkdirSync } from 'node:fs';
import { detectionQueueOf, queueFactoryFor } from '../adapters.js';
import type { Config } from '../config/schema.js';
import { siteTimeZone } from '../config/site.js';
import { detectionJobId, IngestService } from '../ingest/ingest.service.js';
import { systemClock } from '../lib/clock.js';
import { EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import type { DetectionJob, JobQueue, QueueFactory } from '../queue/contracts.js';
import type { Store } from '../storage/database.js';
import { type ImportReport, importFolder } from './import-folder.js';
import { createProgressBar } from './progress.js';
import { reprocess } from './reprocess.js';
import { runRetention } from './retention.js';

/** `hsi retention | reprocess | import`: one-off runs of the operations the service also does. */

/**
 * The detection queue as a one-off command sees it: BullMQ (the running workers take the jobs at once) with Redis;
 * on the embedded backends an in-process queue nobody consumes — the rows stay `queued` and the service picks them
 * up at its next start (it must be stopped anyway: the embedded database belongs to one process).
 */
function detectionQueue(
  config: Config,
  log: Logger,
): { queue: JobQueue<DetectionJob>; factory: QueueFactory; shared: boolean } {
  const factory = queueFactoryFor(config, log, systemClock);
  return {
    queue: detectionQueueOf(factory, config),
    factory,
    shared: config.redis.url !== '',
  };
}

const pending = (shared: boolean) =>
  shared ? 'queued for the running detectors' : 'left queued: HSI processes them at its next start';

export async function retentionCommand(store: Store, config: Config, log: Logger, out: NodeJS.WritableStream) {
  const report = await runRetention({
    db: store.db,
    mediaRoot: config.media_root,
    dataDir: config.data_dir,
    config: config.retention,
    clock: systemClock,
    log,
  });
  out.write(`${JSON.stringify(report, null, 2)}\n`);
}

export async function reprocessCommand(
  store: Store,
  config: Config,
  log: Logger,
  target: string | undefined,
  out: NodeJS.WritableStream,
): Promise<void> {
  if (target === undefined) throw new Error('name a camera id or a folder: hsi reprocess <camera|folder>');
  const { queue, factory, shared } = detectionQueue(config, log);
  const bar = createProgressBar({ out });
  try {
    const report = await reprocess(target, {
      db: store.db,
      mediaRoot: config.media_root,
      dataDir: config.data_dir,
      log,
      clock: systemClock,
      enqueue: async (row) => {
        if (!shared) return;
        const job = { mediaFileId: row.id, cameraId: row.camera_id, path: row.path, queuedAt: Date.now() };
        await queue.add(job, { jobId: detectionJobId(row.id) });
      },
      onProgress: bar.update,
    });
    bar.finish();
    out.write(
      `${report.requeued} file(s) ${pending(shared)}; ${report.skipped} skipped, ${report.missing} missing on disk\n`,
    );
  } finally {
    await factory.close();
  }
}

export async function importCommand(
  store: Store,
  config: Config,
  log: Logger,
  folder: string | undefined,
  camera: string | undefined,
  out: NodeJS.WritableStream,
): Promise<void> {
  if (folder === undefined) throw new Error('name the folder to import: hsi import <folder> [--camera NAME]');
  mkdirSync(config.media_root, { recursive: true });
  const { queue, factory, shared } = detectionQueue(config, log);
  const ingest = new IngestService({
    db: store.db,
    queue,
    bus: new EventBus(log),
    log,
    clock: systemClock,
    mediaRoot: config.media_root,
    limits: { maxFileBytes: config.ingest.max_file_mb * 1024 * 1024, maxPixels: config.ingest.max_pixels },
    timeZone: siteTimeZone(config),
  });
  const bar = createProgressBar({ out });
  try {
    const report = await importFolder(folder, {
      db: store.db,
      mediaRoot: config.media_root,
      ingest,
      log,
      ...(camera === undefined ? {} : { camera }),
      onProgress: bar.update,
    });
    bar.finish();
    out.write(formatImportReport(report, shared));
  } finally {
    await factory.close();
  }
}

const IMPORT_LINES: [keyof ImportReport, string, string][] = [
  ['scanned', 'scanned', 'supported files found'],
  ['copied', 'copied', 'into the media root'],
  ['queued', 'queued', 'for detection'],
  ['duplicates', 'duplicates', 'same content as a file already stored'],
  ['rejected', 'rejected', 'refused: see the warnings above, and `hsi status`'],
  ['known', 'known', 'imported by an earlier run'],
  ['unplaced', 'unplaced', 'directly in the folder, no camera folder: pass --camera NAME'],
  ['skipped', 'skipped', 'vanished or still changing'],
];

/** What `hsi import` prints: the outcome, then one count per line (those that are not zero explained). */
export function formatImportReport(report: ImportReport, shared: boolean): string {
  const width = Math.max(...IMPORT_LINES.map(([, label]) => label.length)) + 2;
  const lines = IMPORT_LINES.map(([key, label, meaning]) => {
    const n = report[key];
    return `${`${label}:`.padEnd(width)}${n}${n > 0 ? `  (${meaning})` : ''}`;
  });
  return `${report.queued} file(s) ${pending(shared)}\n${lines.join('\n')}\n`;
}
