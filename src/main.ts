import { mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  analysisQueueOf,
  createLlmClient,
  detectionQueueOf,
  enrichmentQueueOf,
  openMigratedStore,
  queueFactoryFor,
} from './adapters.js';
import type { BatchAggregator } from './aggregation/batch-aggregator.js';
import { AlertService } from './alerts/alert.service.js';
import { ArmingService } from './alerts/arming.service.js';
import { OpenAiLlmClient } from './analysis/llm-client.js';
import type { Config } from './config/schema.js';
import { siteTimeZone } from './config/site.js';
import type { ObjectDetector } from './detection/object-detector.js';
import type { BusEvents } from './domain/events.js';
import {
  type Contributions,
  collectContributions,
  type Feature,
  type FeatureContext,
  type Running,
  runsHere,
} from './feature.js';
import { allFeatures } from './features.js';
import type { IngestService } from './ingest/ingest.service.js';
import { type Clock, systemClock } from './lib/clock.js';
import { EventBus } from './lib/event-bus.js';
import { FailedLogins } from './lib/failed-logins.js';
import type { Logger } from './lib/logger.js';
import { RedisBusRelay } from './lib/redis-bus-relay.js';
import { StopStack } from './lib/stop-stack.js';
import { OnnxModelRuntime } from './models/model-runtime.js';
import type { MqttBridge } from './mqtt/bridge.js';
import { syncConfiguration } from './ops/config-sync.js';
import type { AnalysisJob, DetectionJob, JobQueue } from './queue/contracts.js';
import { assertRolesFitBackends, ROLES, type Role } from './roles.js';
import { SystemStatus } from './status/system-status.js';
import type { Store } from './storage/database.js';
import { VERSION } from './version.js';

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
  /** Features started after HSI's own (tests of the seam; a capability of the product belongs in `allFeatures`). */
  extraFeatures?: readonly Feature[];
}

/**
 * The composition root: builds every adapter from the configuration once, then starts the features that are
 * enabled and hold one of this process's roles, in order, and stops them in reverse (adapters last).
 */
export async function startHsi(config: Config, log: Logger, options: StartOptions = {}): Promise<Hsi> {
  const clock = options.clock ?? systemClock;
  const roles = options.roles ?? new Set(ROLES);
  assertRolesFitBackends(roles, config);
  const stack = new StopStack(log);
  try {
    mkdirSync(config.data_dir, { recursive: true });
    mkdirSync(config.media_root, { recursive: true });
    const all = [...allFeatures(), ...(options.extraFeatures ?? [])];
    const ctx = await buildContext(config, log, clock, roles, options, stack, collectContributions(all, config));
    const features = all.filter((f) => runsHere(f, config, roles));
    for (const feature of features) {
      // Pushed first: a feature whose start fails half-way still stops what it started.
      stack.push(feature.name, async () => feature.stop?.());
      await feature.start?.(ctx);
    }
    // Named too: the enabled features that only contribute (fact sources, entities, routes) and start nothing.
    logReady(ctx, [...features, ...all.filter((f) => f.roles.length === 0 && f.enabled(config))]);
    return hsiOf(ctx, () => stack.unwind());
  } catch (error) {
    await stack.unwind();
    throw error;
  }
}

async function buildContext(
  config: Config,
  log: Logger,
  clock: Clock,
  roles: ReadonlySet<Role>,
  options: StartOptions,
  stack: StopStack,
  contributions: Contributions,
): Promise<FeatureContext> {
  const llm = roles.has('analyze') ? createLlmClient(config, log) : undefined;
  const store = await openMigratedStore(config, log);
  stack.push('database', () => store.close());
  await syncConfiguration(store.db, config, log);
  const models = new OnnxModelRuntime({ config, log, detector: options.detector });
  stack.push('model runtime', () => models.close());
  const factory = queueFactoryFor(config, log, clock);
  stack.push('queues', () => factory.close());
  const bus = new EventBus<BusEvents>(log);
  stack.push('bus', async () => bus.removeAll());
  if (roles.size < ROLES.length) {
    const relay = new RedisBusRelay(config.redis.url, config.redis.prefix, bus, log);
    await relay.start();
    stack.push('bus relay', () => relay.stop());
  }
  const queues = {
    factory,
    analysis: analysisQueueOf(factory, config),
    enrichment: enrichmentQueueOf(factory, config),
    detection: detectionQueueOf(factory, config),
  };
  stack.push('analysis queue', () => queues.analysis.close());
  stack.push('enrichment queue', () => queues.enrichment.close());
  stack.push('detection queue', () => queues.detection.close());
  const failedLogins = new FailedLogins();
  const running: Running = {};
  const status = new SystemStatus({
    db: store.db,
    // The two queues /api/stats and the health sensor have always shown.
    queues: { detection: queues.detection, analysis: queues.analysis },
    clock,
    bus,
    version: VERSION,
    timeZone: siteTimeZone(config),
    cameraOfflineAfterS: config.homeassistant.camera_offline_after_s,
    llm: llm === undefined ? undefined : llm instanceof OpenAiLlmClient ? { probe: () => llm.probe() } : {},
    failedLogins,
    ingest: () => running.ingestHealth?.(),
  });
  status.start();
  stack.push('system status', async () => status.stop());
  return {
    config,
    log,
    clock,
    roles,
    store,
    db: store.db,
    bus,
    queues,
    models,
    alerts: new AlertService({ db: store.db, bus, log, clock }),
    arming: new ArmingService({ db: store.db, bus, log, clock }),
    llm,
    failedLogins,
    status,
    contributions,
    running,
  };
}

function logReady(ctx: FeatureContext, features: readonly Feature[]): void {
  const detector = ctx.running.detector;
  ctx.log.info(
    {
      roles: [...ctx.roles],
      features: features.map((f) => f.name),
      database: ctx.store.engine,
      queue: ctx.queues.factory.kind,
      model: detector === undefined ? null : path.basename(detector.info.modelPath),
      provider: detector?.info.provider ?? null,
      analysis: ctx.llm === undefined ? 'rules' : `llm:${ctx.llm.model}`,
      media_root: ctx.config.media_root,
    },
    'HSI ready',
  );
}

function hsiOf(ctx: FeatureContext, stop: () => Promise<void>): Hsi {
  const running: Running = ctx.running;
  return {
    config: ctx.config,
    roles: ctx.roles,
    store: ctx.store,
    bus: ctx.bus,
    detector: running.detector,
    detectionQueue: ctx.queues.detection,
    analysisQueue: ctx.queues.analysis,
    ingest: running.ingest,
    aggregator: running.aggregator,
    alerts: ctx.alerts,
    arming: ctx.arming,
    mqtt: running.mqtt,
    reconciled: running.reconciled ?? Promise.resolve(),
    stop,
  };
}
