import type { AlertService } from '../alerts/alert.service.js';
import type { ArmingService } from '../alerts/arming.service.js';
import { type LlmClient, OpenAiLlmClient } from '../analysis/llm-client.js';
import type { Config } from '../config/schema.js';
import type { BusEvents } from '../domain/events.js';
import { localTime } from '../domain/schedule.js';
import { ftpUserFolder } from '../ingest/ftp-access.js';
import type { Clock } from '../lib/clock.js';
import type { EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import { MqttBridge } from '../mqtt/bridge.js';
import { connectionOptionsFromConfig, MqttConnection } from '../mqtt/client.js';
import { createCommandServices } from '../mqtt/command-services.js';
import { createCommandHandler } from '../mqtt/commands.js';
import { EmbeddedBroker } from '../mqtt/embedded-broker.js';
import { InferenceWindow } from '../mqtt/health.js';
import type { SystemHealth } from '../mqtt/payloads.js';
import type { JobQueue } from '../queue/contracts.js';
import { listCameras } from '../storage/camera.repository.js';
import type { Db } from '../storage/database.js';
import { countEventsSince } from '../storage/event.repository.js';
import { countByStatus } from '../storage/media-file.repository.js';
import { VERSION } from '../version.js';
import { clipFrameExtractor } from './detection-stage.js';
import { siteTimeZone } from './event-stage.js';
import type { StopStack } from './stop-stack.js';

export interface MqttStageParts {
  db: Db;
  bus: EventBus<BusEvents>;
  alerts: AlertService;
  arming: ArmingService;
  queues: { detection: JobQueue<unknown>; analysis: JobQueue<unknown> };
  llm: LlmClient | undefined;
  log: Logger;
  clock: Clock;
}

/** The broker (embedded when `mqtt.url` is empty), the connection, and the Home Assistant bridge. */
export async function startMqttStage(config: Config, parts: MqttStageParts, stack: StopStack): Promise<MqttBridge> {
  const { db, bus, alerts, arming, log, clock } = parts;
  let url = config.mqtt.url;
  if (url === '') {
    const e = config.mqtt.embedded;
    const broker = new EmbeddedBroker({ host: e.host, port: e.port, username: e.username, password: e.password, log });
    url = await broker.start();
    stack.push('embedded broker', () => broker.stop());
  }
  const connection = new MqttConnection(connectionOptionsFromConfig(config.mqtt, url, log));
  const bridge = new MqttBridge({
    brokerUrl: url,
    mqtt: config.mqtt,
    ha: config.homeassistant,
    version: VERSION,
    mediaRoot: config.media_root,
    ftpFolders: new Set(config.ftp.enabled ? config.ftp.users.map(ftpUserFolder) : []),
    extractFrames: clipFrameExtractor(config),
    publisher: connection,
    db,
    bus,
    alerts,
    arming,
    commands: createCommandHandler({
      services: createCommandServices({ db, alerts, arming }),
      log,
      maxPayloadBytes: config.mqtt.max_payload_bytes,
      alarmCode: config.homeassistant.alarm_code,
      clock,
    }),
    health: healthProvider(config, parts),
    log,
    clock,
  });
  bridge.start();
  stack.push('mqtt', async () => {
    bridge.stop();
    await connection.stop();
  });
  await connection.start();
  return bridge;
}

function healthProvider(config: Config, parts: MqttStageParts): () => Promise<SystemHealth> {
  const { db, bus, queues, llm, clock } = parts;
  const inference = new InferenceWindow();
  bus.on('media.processed', (e) => {
    if (e.timings.inferenceMs > 0) inference.add(e.timings.inferenceMs);
  });
  const started = clock.now();
  let llmState: { at: number; ok: boolean } | undefined;
  const timeZone = siteTimeZone(config);
  return async () => {
    const depth = async (q: JobQueue<unknown>) => {
      const c = await q.counts();
      return c.waiting + c.active + c.delayed;
    };
    if (llm instanceof OpenAiLlmClient && (llmState === undefined || clock.now() - llmState.at > 60_000)) {
      llmState = { at: clock.now(), ok: await llm.probe() };
    }
    const now = clock.now();
    const local = localTime(now, timeZone);
    const midnight = new Date(now - (local.minuteOfDay * 60 + new Date(now).getUTCSeconds()) * 1000);
    const cameras = await listCameras(db);
    const cutoff = now - config.homeassistant.camera_offline_after_s * 1000;
    const failed = (await countByStatus(db)).failed;
    const analysisDead = (await queues.analysis.counts()).dead;
    return {
      version: VERSION,
      uptimeS: Math.round((now - started) / 1000),
      queues: { detection: await depth(queues.detection), analysis: await depth(queues.analysis) },
      inferenceMs: inference.percentiles(),
      deadLetters: failed + analysisDead,
      camerasOnline: cameras.filter((c) => c.last_seen_at !== null && c.last_seen_at.getTime() >= cutoff).length,
      camerasTotal: cameras.length,
      llmReachable: llm === undefined ? null : (llmState?.ok ?? null),
      eventsToday: await countEventsSince(db, midnight),
    };
  };
}
