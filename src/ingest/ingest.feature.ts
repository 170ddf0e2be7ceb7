import { siteTimeZone } from '../config/site.js';
import { defineFeature, type Feature, type FeatureContext } from '../feature.js';
import type { StopStack } from '../lib/stop-stack.js';
import { startRetentionSchedule } from '../ops/retention.js';
import { startFtpReceiver } from './ftp-receiver.js';
import { IngestService } from './ingest.service.js';
import { type ReconcileDeps, reconcile, requeuePending, retryFailedIngests } from './reconcile.js';
import { MediaWatcher } from './watcher.js';

/**
 * The ingest stage: the watcher, start-up reconciliation and the periodic sweep turn uploads into rows and
 * detection jobs; the FTP receiver (for cameras that can only upload by FTP) writes into media_root; retention
 * removes what is due (the ingest role owns media_root).
 */
export function ingestFeature(): Feature {
  return defineFeature({
    name: 'ingest',
    roles: ['ingest'],
    async start(ctx, stop) {
      startWatching(ctx, stop);
      if (ctx.config.ftp.enabled) await startFtp(ctx, stop);
      const retention = startRetentionSchedule({
        db: ctx.db,
        mediaRoot: ctx.config.media_root,
        dataDir: ctx.config.data_dir,
        config: ctx.config.retention,
        clock: ctx.clock,
        log: ctx.log.child({ component: 'retention' }),
      });
      stop.push('retention', () => retention.stop());
    },
  });
}

function startWatching(ctx: FeatureContext, stack: StopStack): void {
  const { config, db, bus, log, clock } = ctx;
  const queue = ctx.queues.detection;
  const ingest = new IngestService({
    db,
    queue,
    bus,
    log,
    clock,
    mediaRoot: config.media_root,
    limits: { maxFileBytes: config.ingest.max_file_mb * 1024 * 1024, maxPixels: config.ingest.max_pixels },
    timeZone: siteTimeZone(config),
  });
  const watcher = new MediaWatcher({
    root: config.media_root,
    stableMs: config.ingest.stable_ms,
    polling: config.ingest.polling,
    pollIntervalMs: config.ingest.poll_interval_ms,
    log,
    clock,
  });
  // Files whose ingest threw (database or queue down): tried again by the pending sweep.
  const failed = new Set<string>();
  watcher.onReady((file) => {
    ingest.ingest(file).then(
      () => failed.delete(file),
      (error: unknown) => {
        failed.add(file);
        log.error({ err: error, file }, 'ingest failed; tried again at the next pending sweep');
      },
    );
  });
  stack.push('watcher', () => watcher.stop());
  const deps: ReconcileDeps = { db, queue, ingest, log, clock, mediaRoot: config.media_root };
  // Reconcile after the watcher is up, so nothing uploaded during the scan is missed (sha256 dedups the overlap).
  const reconciled = watcher.start().then(async () => {
    await reconcile(deps);
  });
  reconciled.catch((error: unknown) => log.error({ err: error }, 'start-up reconciliation failed'));
  // A media root that came back (or was replaced) may hold files written while nothing watched it.
  watcher.onRootChange((health) => {
    if (!health.ok) return;
    reconcile(deps).catch((error: unknown) => log.error({ err: error }, 'reconciliation of the media root failed'));
  });
  startPendingSweep(config.ingest.reconcile_interval_s * 1000, deps, failed, stack);
  ctx.running.ingest = ingest;
  ctx.running.ingestHealth = () => watcher.health();
  ctx.running.reconciled = reconciled.catch(() => undefined);
}

/**
 * Every `intervalMs`, rows left `queued`/`processing` for that long are queued again: this repairs jobs lost with
 * a Redis restart (Redis keeps the queue in memory). Files whose ingest failed (database down) are ingested
 * again. 0 turns the sweep off.
 */
function startPendingSweep(intervalMs: number, deps: ReconcileDeps, failed: Set<string>, stack: StopStack): void {
  if (intervalMs <= 0) return;
  const sweep = async () => {
    const requeued = await requeuePending(deps, intervalMs);
    if (requeued > 0) deps.log.info({ requeued }, 'requeued files left pending');
    if (failed.size === 0) return;
    const ingested = await retryFailedIngests(deps, failed);
    deps.log.info({ ingested, left: failed.size }, 'ingested again files whose ingest had failed');
  };
  const timer = setInterval(() => {
    sweep().catch((error: unknown) => deps.log.warn({ err: error }, 'pending sweep failed'));
  }, intervalMs);
  timer.unref();
  stack.push('pending sweep', async () => clearInterval(timer));
}

/** Cameras that can only upload by FTP write into media_root through it; the watcher ingests their files. */
async function startFtp(ctx: FeatureContext, stack: StopStack): Promise<void> {
  const ftp = await startFtpReceiver(ctx.config.ftp, {
    mediaRoot: ctx.config.media_root,
    maxFileBytes: ctx.config.ingest.max_file_mb * 1024 * 1024,
    log: ctx.log,
  });
  stack.push('ftp receiver', () => ftp.close());
  ctx.failedLogins.register('ftp', () => ftp.failedLogins());
}
