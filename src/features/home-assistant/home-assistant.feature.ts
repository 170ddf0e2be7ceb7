import { clipFrameExtractor } from '../../adapters.js';
import type { AlertService } from '../../alerts/alert.service.js';
import type { ArmingService } from '../../alerts/arming.service.js';
import { type LlmClient, OpenAiLlmClient } from '../../analysis/llm-client.js';
import type { Config } from '../../config/schema.js';
import { siteTimeZone } from '../../config/site.js';
import type { BusEvents } from '../../domain/events.js';
import { startOfLocalDay } from '../../domain/local-day.js';
import type { Feature } from '../../feature.js';
import { ftpUserFolder } from '../../ingest/ftp-access.js';
import type { Clock } from '../../lib/clock.js';
import type { EventBus } from '../../lib/event-bus.js';
import type { FailedLogins } from '../../lib/failed-logins.js';
import type { Logger } from '../../lib/logger.js';
import { StopStack } from '../../lib/stop-stack.js';
import { MqttBridge } from '../../mqtt/bridge.js';
import { connectionOptionsFromConfig, MqttConnection, type MqttConnectionOptions } from '../../mqtt/client.js';
import { defaultClientId } from '../../mqtt/client-options.js';
import { createCommandServices } from '../../mqtt/command-services.js';
import { createCommandHandler } from '../../mqtt/commands.js';
import { EmbeddedBroker } from '../../mqtt/embedded-broker.js';
import { InferenceWindow } from '../../mqtt/health.js';
import type { SystemHealth } from '../../mqtt/payloads.js';
import type { JobQueue } from '../../queue/contracts.js';
import { listCameras } from '../../storage/camera.repository.js';
import type { Db } from '../../storage/database.js';
import { countEventsSince } from '../../storage/event.repository.js';
import { countByStatus } from '../../storage/media-file.repository.js';
import { VERSION } from '../../version.js';

interface MqttStageParts {
  db: Db;
  bus: EventBus<BusEvents>;
  alerts: AlertService;
  arming: ArmingService;
  queues: { detection: JobQueue<unknown>; analysis: JobQueue<unknown> };
  llm: LlmClient | undefined;
  log: Logger;
  clock: Clock;
  /** Whether the media root is watched; undefined until ingest started, or without the ingest role. */
  ingest?: () => { ok: boolean; reason: string | null } | undefined;
  /** Where the embedded broker's and the alarm code's refused logins are registered (for /metrics). */
  failedLogins?: FailedLogins;
}

/**
 * Home Assistant over MQTT: the broker (embedded when `mqtt.url` is empty), the connection, and the bridge that
 * publishes discovery and states and takes commands back.
 */
export function homeAssistantFeature(): Feature {
  let stack: StopStack | undefined;
  return {
    name: 'home-assistant',
    roles: ['bridge'],
    enabled: () => true,
    async start(ctx) {
      stack = new StopStack(ctx.log);
      ctx.running.mqtt = await startMqtt(
        ctx.config,
        {
          db: ctx.db,
          bus: ctx.bus,
          alerts: ctx.alerts,
          arming: ctx.arming,
          queues: { detection: ctx.queues.detection, analysis: ctx.queues.analysis },
          llm: ctx.llm,
          log: ctx.log,
          clock: ctx.clock,
          ingest: () => ctx.running.ingestHealth?.(),
          failedLogins: ctx.failedLogins,
        },
        stack,
      );
    },
    async stop() {
      await stack?.unwind();
    },
  };
}

async function startMqtt(config: Config, parts: MqttStageParts, stack: StopStack): Promise<MqttBridge> {
  const { db, bus, alerts, arming, log, clock } = parts;
  const { options, broker } = await startBroker(config, log, stack);
  const url = options.url;
  const connection = new MqttConnection(options);
  const commands = createCommandHandler({
    services: createCommandServices({ db, alerts, arming }),
    log,
    maxPayloadBytes: config.mqtt.max_payload_bytes,
    alarmCode: config.homeassistant.alarm_code,
    clock,
  });
  const failedLogins = () => (broker?.failedLogins ?? 0) + commands.failedCodes;
  if (broker !== undefined) parts.failedLogins?.register('mqtt', () => broker.failedLogins);
  parts.failedLogins?.register('alarm_code', () => commands.failedCodes);
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
    commands,
    health: healthProvider(config, parts, failedLogins),
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

/**
 * The connection to `mqtt.url`, or to the embedded broker started here when that is empty: HSI's client then uses
 * the broker's own credentials for it (whatever `mqtt.embedded.username/password` say, HSI never locks itself
 * out), and its client id is reserved for it at that broker.
 */
async function startBroker(
  config: Config,
  log: Logger,
  stack: StopStack,
): Promise<{ options: MqttConnectionOptions; broker: EmbeddedBroker | undefined }> {
  if (config.mqtt.url !== '')
    return { options: connectionOptionsFromConfig(config.mqtt, config.mqtt.url, log), broker: undefined };
  const e = config.mqtt.embedded;
  const clientId = config.mqtt.client_id || defaultClientId(config.mqtt.base_topic);
  const broker = new EmbeddedBroker({
    host: e.host,
    port: e.port,
    username: e.username,
    password: e.password,
    ownClientId: clientId,
    log,
  });
  const url = await broker.start();
  stack.push('embedded broker', () => broker.stop());
  const options = { ...connectionOptionsFromConfig(config.mqtt, url, log), clientId, ...broker.ownCredentials() };
  return { options, broker };
}

function healthProvider(
  config: Config,
  parts: MqttStageParts,
  failedLogins: () => number,
): () => Promise<SystemHealth> {
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
    const midnight = startOfLocalDay(new Date(now), timeZone);
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
      failedLogins: failedLogins(),
      ingest: parts.ingest?.() ?? null,
    };
  };
}
