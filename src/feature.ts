import type { BatchAggregator } from './aggregation/batch-aggregator.js';
import type { AlertService } from './alerts/alert.service.js';
import type { ArmingService } from './alerts/arming.service.js';
import type { FactSource } from './analysis/facts.js';
import type { LlmClient } from './analysis/llm-client.js';
import type { ApiRoutes } from './api/context.js';
import type { Config } from './config/schema.js';
import type { ObjectDetector } from './detection/object-detector.js';
import type { BusEvents } from './domain/events.js';
import type { FrameProcessor } from './enrichment/contract.js';
import type { IngestService } from './ingest/ingest.service.js';
import type { RootHealth } from './ingest/watcher.js';
import type { Clock } from './lib/clock.js';
import type { EventBus } from './lib/event-bus.js';
import type { FailedLogins } from './lib/failed-logins.js';
import type { Logger } from './lib/logger.js';
import { StopStack } from './lib/stop-stack.js';
import type { ModelRuntime } from './models/model-runtime.js';
import type { MqttBridge } from './mqtt/bridge.js';
import type { HaComponentSource } from './mqtt/ha-components.js';
import type { AnalysisJob, DetectionJob, EnrichmentJob, JobQueue, QueueFactory } from './queue/contracts.js';
import type { Role } from './roles.js';
import type { SystemStatus } from './status/system-status.js';
import type { Db, Store } from './storage/database.js';

/**
 * The seam HSI grows on. A feature is one capability (a pipeline stage, Home Assistant, the HTTP API, GPU
 * statistics, later faces or baselines): it says where it runs and whether the configuration enables it, starts
 * and stops, and may contribute to the core through four typed hooks, each read in exactly one place:
 *
 * | hook              | read by                                   | what it adds                                   |
 * | `frameProcessors` | the enrichment feature (src/enrichment/)  | work on each detected frame and its crops      |
 * | `factSources`     | the analysis feature (src/analysis/)      | prompt lines, score hints, audit data          |
 * | `haComponents`    | the Home Assistant feature                | entities and their states                      |
 * | `routes`          | the HTTP API feature                      | HTTP routes under the API's auth and guards    |
 *
 * Hooks take only the configuration: the core collects them before anything starts, so a feature's
 * contributions are known even in a process that does not run the feature itself (a `--roles api` process
 * serves the routes of a feature whose worker runs elsewhere). `src/main.ts` is the one place features are
 * listed and started (in order) and stopped (in reverse).
 */
export interface Feature {
  /** Short, stable, kebab-case: 'ingest', 'home-assistant', 'gpu-stats', 'owner-feedback'. */
  readonly name: string;
  /** The roles in whose process `start` runs; empty: the feature only contributes hooks. */
  readonly roles: readonly Role[];
  enabled(config: Config): boolean;
  start?(ctx: FeatureContext): Promise<void>;
  /** Stops what `start` started, also after a `start` that failed half-way. */
  stop?(): Promise<void>;
  frameProcessors?(config: Config): FrameProcessor[];
  factSources?(config: Config): FactSource[];
  haComponents?(config: Config): HaComponentSource[];
  routes?(config: Config): ApiRoutes[];
}

/** What every enabled feature contributed, collected once before any feature starts. */
export interface Contributions {
  readonly frameProcessors: readonly FrameProcessor[];
  readonly factSources: readonly FactSource[];
  readonly haComponents: readonly HaComponentSource[];
  readonly routes: readonly ApiRoutes[];
}

/** The core's queues, created once by the composition root. */
export interface CoreQueues {
  readonly factory: QueueFactory;
  readonly detection: JobQueue<DetectionJob>;
  readonly enrichment: JobQueue<EnrichmentJob>;
  readonly analysis: JobQueue<AnalysisJob>;
}

/**
 * What running features publish for the others and for `startHsi`'s caller. Filled as features start (in order):
 * a feature reads only what an earlier one wrote, or reads a getter lazily (the API asks for the ingest health when
 * a request comes, by which time ingest has started).
 */
export interface Running {
  detector?: ObjectDetector;
  ingest?: IngestService;
  ingestHealth?: () => RootHealth;
  /** Resolves when the start-up reconciliation scan has finished. */
  reconciled?: Promise<void>;
  aggregator?: BatchAggregator;
  mqtt?: MqttBridge;
}

/** Adapters built once by the composition root and handed to every feature. */
export interface FeatureContext {
  readonly config: Config;
  readonly log: Logger;
  readonly clock: Clock;
  readonly roles: ReadonlySet<Role>;
  readonly store: Store;
  readonly db: Db;
  readonly bus: EventBus<BusEvents>;
  readonly queues: CoreQueues;
  readonly models: ModelRuntime;
  readonly alerts: AlertService;
  readonly arming: ArmingService;
  /** The configured LLM, in a process with the `analyze` role; undefined: the rules scorer (or no analysis here). */
  readonly llm: LlmClient | undefined;
  /** Where each service that checks credentials registers its count of refused logins (for /metrics). */
  readonly failedLogins: FailedLogins;
  /** The one system-status read model: the MQTT health sensor, `/api/stats` and `/metrics` read it. */
  readonly status: SystemStatus;
  readonly contributions: Contributions;
  readonly running: Running;
}

/** What `defineFeature` makes a feature from: `start` registers what to stop on the stack it is given. */
export interface FeatureSpec extends Omit<Feature, 'enabled' | 'start' | 'stop'> {
  /** Default: always on. */
  enabled?(config: Config): boolean;
  start?(ctx: FeatureContext, stop: StopStack): Promise<void>;
}

/**
 * A feature whose parts stop in reverse order of their start, also after a start that failed half-way: `start`
 * pushes each long-lived part's stop onto the stack it is given, and `stop()` unwinds it (failures logged).
 */
export function defineFeature(spec: FeatureSpec): Feature {
  const { start, enabled, ...rest } = spec;
  let stack: StopStack | undefined;
  return {
    ...rest,
    enabled: enabled ?? (() => true),
    ...(start === undefined
      ? {}
      : {
          async start(ctx: FeatureContext) {
            stack = new StopStack(ctx.log.child({ feature: spec.name }));
            await start(ctx, stack);
          },
          async stop() {
            await stack?.unwind();
          },
        }),
  };
}

/** The features that run in this process: enabled by the configuration and holding one of its roles. */
export function runsHere(feature: Feature, config: Config, roles: ReadonlySet<Role>): boolean {
  return feature.enabled(config) && feature.roles.some((role) => roles.has(role));
}

/** Every enabled feature's hooks, in feature order. */
export function collectContributions(features: readonly Feature[], config: Config): Contributions {
  const on = features.filter((f) => f.enabled(config));
  return {
    frameProcessors: on.flatMap((f) => f.frameProcessors?.(config) ?? []),
    factSources: on.flatMap((f) => f.factSources?.(config) ?? []),
    haComponents: on.flatMap((f) => f.haComponents?.(config) ?? []),
    routes: on.flatMap((f) => f.routes?.(config) ?? []),
  };
}
