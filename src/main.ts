import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BatchAggregator } from './aggregation/batch-aggregator.js';
import { type BatchStore, MemoryBatchStore } from './aggregation/batch-store.js';
import { RedisBatchStore } from './aggregation/redis-batch.store.js';
import { AlertService } from './alerts/alert.service.js';
import { ArmingService } from './alerts/arming.service.js';
import { detectionEnqueuer, readinessChecks, startApi } from './api/server.js';
import type { Config } from './config/schema.js';
import type { ObjectDetector } from './detection/object-detector.js';
import type { BusEvents } from './domain/events.js';
import { startFtpReceiver } from './ingest/ftp-receiver.js';
import type { IngestService } from './ingest/ingest.service.js';
import type { RootHealth } from './ingest/watcher.js';
import { type Clock, systemClock } from './lib/clock.js';
import { EventBus } from './lib/event-bus.js';
import { FailedLogins } from './lib/failed-logins.js';
import type { Logger } from './lib/logger.js';
import type { MqttBridge } from './mqtt/bridge.js';
import { syncConfiguration } from './ops/config-sync.js';
import { startGpuSampler } from './ops/gpu-stats.js';
import { startRetentionSchedule } from './ops/retention.js';
import { type AnalysisJob, type DetectionJob, type JobQueue, QUEUE_NAMES } from './queue/contracts.js';
import { createQueueFactory } from './queue/factory.js';
import { openStore, storeOptionsFrom } from './storage/connect.js';
import type { Store } from './storage/database.js';
import { migrate } from './storage/migrate.js';
import { clipFrameExtractor, createDetector, startDetectionWorker, startIngest } from './wiring/detection-stage.js';
import { createLlmClient, startEventStage } from './wiring/event-stage.js';
import { startMqttStage } from './wiring/mqtt-stage.js';
import { RedisBusRelay } from './wiring/redis-bus-relay.js';
import { assertRolesFitBackends, ROLES, type Role } from './wiring/roles.js';
import { StopStack } from './wiring/stop-stack.js';

export interface Hsi {
  readonly config: Config;
  readonly roles: ReadonlySet<Role>;
  readonly store: Store;
  readonly bus: EventBus<BusEvents>;
  /** Present with the `detect` role. */
  readonly detector: ObjectDetector | undefined;
  readonly detectionQueue: JobQueue<DetectionJob>;
  readonly analysisQueue: JobQueue<AnalysisJob>;
  /** Present with the `ingest` role. */
  readonly ingest: IngestService | undefined;
  readonly aggregator: BatchAggregator | undefined;
  readonly alerts: AlertService;
  readonly arming: ArmingService;
  /** Present with the `bridge` role. */
  readonly mqtt: MqttBridge | undefined;
  /** Resolves when the start-up reconciliation scan has finished (the service is ready before that). */
  readonly reconciled: Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  /** Overrides the ONNX detector (benchmarks and tests of the plumbing). */
  detector?: ObjectDetector;
  /** Default: every role. */
  roles?: ReadonlySet<Role>;
}

/** Composition root: builds every adapter from the configuration, starts the stages, stops them in reverse. */
export async function startHsi(config: Config, log: Logger, options: StartOptions = {}): Promise<Hsi> {
  const clock = options.clock ?? systemClock;
  const roles = options.roles ?? new Set(ROLES);
  assertRolesFitBackends(roles, config);
  const stack = new StopStack(log);
  try {
    mkdirSync(config.data_dir, { recursive: true });
    mkdirSync(config.media_root, { recursive: true });
    const llm = roles.has('analyze') ? createLlmClient(config, log) : undefined;
    const store = await openStore(storeOptionsFrom(config, log));
    stack.push('database', () => store.close());
    await migrate(store, log);
    await syncConfiguration(store.db, config, log);

    const detector = roles.has('detect') ? (options.detector ?? (await createDetector(config, log))) : undefined;
    if (detector !== undefined) stack.push('detector', () => detector.close());
    const queues = createQueueFactory({ redisUrl: config.redis.url, prefix: config.redis.prefix, log, clock });
    stack.push('queues', () => queues.close());
    const bus = new EventBus<BusEvents>(log);
    stack.push('bus', async () => bus.removeAll());
    if (roles.size < ROLES.length) {
      const relay = new RedisBusRelay(config.redis.url, config.redis.prefix, bus, log);
      await relay.start();
      stack.push('bus relay', () => relay.stop());
    }
    const policy = { attempts: config.queue.attempts, backoffMs: config.queue.backoff_ms };
    const analysisQueue = queues.create<AnalysisJob>(QUEUE_NAMES.analysis, policy);
    stack.push('analysis queue', () => analysisQueue.close());
    const detectionQueue = queues.create<DetectionJob>(QUEUE_NAMES.detection, policy);
    stack.push('detection queue', () => detectionQueue.close());
    const alerts = new AlertService({ db: store.db, bus, log, clock });
    const arming = new ArmingService({ db: store.db, bus, log, clock });

    let aggregator: BatchAggregator | undefined;
    if (roles.has('detect') || roles.has('analyze')) {
      const batches: BatchStore =
        config.redis.url === ''
          ? new MemoryBatchStore()
          : new RedisBatchStore(config.redis.url, config.redis.prefix, log);
      stack.push('batch store', () => batches.close());
      const parts = { db: store.db, queue: analysisQueue, batches, alerts, bus, log, clock };
      aggregator = await startEventStage(config, parts, llm, { analyze: roles.has('analyze') }, stack);
    }
    // Known once ingest starts (after the API and the bridge): whether the media root is watched.
    let ingestHealth: (() => RootHealth) | undefined;
    // Each service that checks credentials registers its count as it starts; /metrics reads them.
    const failedLogins = new FailedLogins();
    const mqtt = roles.has('bridge')
      ? await startMqttStage(
          config,
          {
            db: store.db,
            bus,
            alerts,
            arming,
            queues: { detection: detectionQueue, analysis: analysisQueue },
            llm,
            log,
            clock,
            ingest: () => ingestHealth?.(),
            failedLogins,
          },
          stack,
        )
      : undefined;
    const parts = { db: store.db, queue: detectionQueue, bus, log, clock };
    if (roles.has('api') && config.http.enabled) {
      const queuesByName = { detection: detectionQueue, analysis: analysisQueue };
      const api = await startApi(config, {
        db: store.db,
        bus,
        alerts,
        arming,
        queues: queuesByName,
        checks: readinessChecks(
          store.db,
          queuesByName,
          () => mqtt?.connected ?? false,
          () => ingestHealth?.(),
        ),
        enqueueDetection: detectionEnqueuer(detectionQueue),
        extractFrames: clipFrameExtractor(config),
        failedLogins,
        log,
        clock,
      });
      stack.push('http api', () => api.close());
    }
    if (detector !== undefined) {
      const worker = startDetectionWorker(config, { ...parts, detector });
      stack.push('thumbnail backlog', () => worker.stop());
    }
    const started = roles.has('ingest') ? startIngest(config, parts, stack) : undefined;
    ingestHealth = started?.health;
    if (roles.has('ingest') && config.ftp.enabled) {
      // Cameras that can only upload by FTP write into media_root through it; the watcher ingests their files.
      const ftp = await startFtpReceiver(config.ftp, {
        mediaRoot: config.media_root,
        maxFileBytes: config.ingest.max_file_mb * 1024 * 1024,
        log,
      });
      stack.push('ftp receiver', () => ftp.close());
      failedLogins.register('ftp', () => ftp.failedLogins());
    }
    if (roles.has('ingest')) {
      // The ingest role owns media_root: it removes what retention says is due.
      const retention = startRetentionSchedule({
        db: store.db,
        mediaRoot: config.media_root,
        dataDir: config.data_dir,
        config: config.retention,
        clock,
        log: log.child({ component: 'retention' }),
      });
      stack.push('retention', () => retention.stop());
    }
    if (detector !== undefined) {
      const gpu = startGpuSampler({ db: store.db, log: log.child({ component: 'gpu' }), clock, intervalMs: 30_000 });
      stack.push('gpu sampler', async () => gpu.stop());
    }
    log.info(
      {
        roles: [...roles],
        database: store.engine,
        queue: queues.kind,
        model: detector === undefined ? null : path.basename(detector.info.modelPath),
        provider: detector?.info.provider ?? null,
        analysis: llm === undefined ? 'rules' : `llm:${llm.model}`,
        media_root: config.media_root,
      },
      'HSI ready',
    );
    return {
      config,
      roles,
      store,
      bus,
      detector,
      detectionQueue,
      analysisQueue,
      ingest: started?.ingest,
      aggregator,
      alerts,
      arming,
      mqtt,
      reconciled: started?.reconciled ?? Promise.resolve(),
      stop: () => stack.unwind(),
    };
  } catch (error) {
    await stack.unwind();
    throw error;
  }
}
