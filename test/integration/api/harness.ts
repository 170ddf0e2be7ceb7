import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { AlertService } from '../../../src/alerts/alert.service.js';
import { ArmingService } from '../../../src/alerts/arming.service.js';
import { type ApiConfig, type ApiDeps, readinessChecks } from '../../../src/api/deps.js';
import { createApi } from '../../../src/api/server.js';
import type { HttpConfig } from '../../../src/config/schema.js';
import type { BusEvents } from '../../../src/domain/events.js';
import type { RiskLevel } from '../../../src/domain/risk.js';
import { detectionEnqueuer } from '../../../src/ingest/ingest.service.js';
import { systemClock } from '../../../src/lib/clock.js';
import { EventBus } from '../../../src/lib/event-bus.js';
import { silentLogger } from '../../../src/lib/logger.js';
import type { AnalysisJob, DetectionJob, JobQueue } from '../../../src/queue/contracts.js';
import { MemoryQueueFactory } from '../../../src/queue/memory.js';
import type { Db, Engine } from '../../../src/storage/database.js';
import { insertEventForBatch, type SecurityEvent } from '../../../src/storage/event.repository.js';
import { newEvent } from '../../support/builders.js';
import { type SeededDetection, seedDetections } from '../../support/seed.js';
import { createTestStore, type TestStore } from '../../support/stores.js';

/** One API over a fresh store with the real alert and arming services, in-process queues and a bus. */
export interface ApiHarness {
  t: TestStore;
  db: Db;
  bus: EventBus<BusEvents>;
  alerts: AlertService;
  arming: ArmingService;
  detectionQueue: JobQueue<DetectionJob>;
  analysisQueue: JobQueue<AnalysisJob>;
  config: ApiConfig;
  deps: ApiDeps;
  app: FastifyInstance;
  mediaRoot: string;
  /** `data_dir`: thumbnails go under `<dataDir>/thumbnails`. */
  dataDir: string;
  /** Flip to simulate the broker connection. */
  mqtt: { connected: boolean };
  /** Replaces the clip frame extractor. */
  frames: { extract: (file: string) => Promise<Buffer[]> };
  close(): Promise<void>;
}

/** `data_dir` defaults to `<mediaRoot>-data` (thumbnails under it; missing unless a test writes there). */
export function apiConfig(mediaRoot: string, http: Partial<HttpConfig> = {}, dataDir = `${mediaRoot}-data`): ApiConfig {
  return {
    http: {
      enabled: true,
      host: '127.0.0.1',
      port: 0,
      api_key: '',
      ingress: false,
      allowed_hosts: [],
      allow_unauthenticated_lan: false,
      ...http,
    },
    media_root: mediaRoot,
    data_dir: dataDir,
    site: { timezone: 'UTC' },
    ingest: { max_pixels: 50_000_000 },
    homeassistant: { camera_offline_after_s: 3600 },
  };
}

export async function createHarness(engine: Engine, http: Partial<HttpConfig> = {}): Promise<ApiHarness> {
  const t = await createTestStore(engine);
  const db = t.store.db;
  const log = silentLogger();
  const bus = new EventBus<BusEvents>(log);
  const queues = new MemoryQueueFactory({ clock: systemClock, log });
  const policy = { attempts: 1, backoffMs: 1 };
  const detectionQueue = queues.create<DetectionJob>('detection', policy);
  const analysisQueue = queues.create<AnalysisJob>('analysis', policy);
  const alerts = new AlertService({ db, bus, log, clock: systemClock });
  const arming = new ArmingService({ db, bus, log, clock: systemClock });
  const mediaRoot = mkdtempSync(path.join(os.tmpdir(), 'hsi-api-media-'));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hsi-api-data-'));
  const mqtt = { connected: true };
  const frames = { extract: async (_file: string): Promise<Buffer[]> => [] };
  const queueViews = { detection: detectionQueue, analysis: analysisQueue };
  const deps: ApiDeps = {
    db,
    bus,
    alerts,
    arming,
    queues: queueViews,
    checks: readinessChecks(db, queueViews, () => mqtt.connected),
    enqueueDetection: detectionEnqueuer(detectionQueue),
    extractFrames: (file) => frames.extract(file),
    log,
    clock: systemClock,
  };
  const config = apiConfig(mediaRoot, http, dataDir);
  const app = await createApi(config, deps);
  return {
    t,
    db,
    bus,
    alerts,
    arming,
    detectionQueue,
    analysisQueue,
    config,
    deps,
    app,
    mediaRoot,
    dataDir,
    mqtt,
    frames,
    async close() {
      await app.close();
      await queues.close();
      await t.dispose();
      rmSync(mediaRoot, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface EventSeed {
  cameraId?: string;
  summary: string;
  riskScore?: number;
  riskLevel?: RiskLevel;
  startedAt: Date;
  detections?: readonly SeededDetection[];
}

let batch = 0;

/** A camera, a media file, its detections and the event that holds them. */
export async function seedEvent(db: Db, seed: EventSeed): Promise<SecurityEvent> {
  const cameraId = seed.cameraId ?? 'front_door';
  const detections = seed.detections ?? [{ objectType: 'person', confidence: 0.9 }];
  const ids = await seedDetections(db, cameraId, detections, seed.startedAt);
  batch += 1;
  const { event } = await insertEventForBatch(
    db,
    newEvent({
      batchId: `${cameraId}:${batch}:${seed.startedAt.getTime()}`,
      cameraId,
      startedAt: seed.startedAt,
      endedAt: new Date(seed.startedAt.getTime() + 5000),
      riskScore: seed.riskScore ?? 10,
      riskLevel: seed.riskLevel ?? 'low',
      summary: seed.summary,
      reasoning: 'seeded for the API tests',
      objectTypes: [...new Set(detections.map((d) => d.objectType))].sort(),
    }),
    ids,
  );
  return event;
}

/** `inject`, returning the response and its parsed JSON body as `T` (undefined when the body is not JSON). */
export async function call<T = unknown>(
  app: FastifyInstance,
  options: InjectOptions,
): Promise<{ res: LightMyRequestResponse; json: T }> {
  const res = await app.inject(options);
  const isJson = res.body !== '' && String(res.headers['content-type'] ?? '').includes('json');
  return { res, json: (isJson ? JSON.parse(res.body) : undefined) as T };
}

/**
 * An alert for `event`: an alert rule created through the API (as a user would), then the event's alerts evaluated
 * with a confident person outside every zone, the house disarmed.
 */
export async function raiseAlert(
  h: ApiHarness,
  event: SecurityEvent,
  rule: { name: string; severity: string; risk_threshold: number },
  headers: Record<string, string> = {},
) {
  await call(h.app, { method: 'POST', url: '/api/alert-rules', payload: rule, headers });
  const [alert] = await h.alerts.evaluate(event, {
    confidenceByType: { person: 0.9 },
    zones: [],
    houseMode: 'disarmed',
    timezone: 'UTC',
  });
  if (alert === undefined) throw new Error(`rule ${rule.name} raised no alert for event ${event.id}`);
  return alert;
}

export interface ErrorJson {
  error: { code: string; message: string; field?: string };
}
