import { clipFrameExtractor } from '../../adapters.js';
import { createCommandServices } from '../../commands/services.js';
import type { Config } from '../../config/schema.js';
import { defineFeature, type Feature, type FeatureContext } from '../../feature.js';
import { ftpUserFolder } from '../../ingest/ftp-access.js';
import type { Logger } from '../../lib/logger.js';
import type { StopStack } from '../../lib/stop-stack.js';
import { MqttBridge } from '../../mqtt/bridge.js';
import { connectionOptionsFromConfig, MqttConnection, type MqttConnectionOptions } from '../../mqtt/client.js';
import { defaultClientId } from '../../mqtt/client-options.js';
import { createCommandHandler } from '../../mqtt/commands.js';
import { EmbeddedBroker } from '../../mqtt/embedded-broker.js';
import { VERSION } from '../../version.js';

/**
 * Home Assistant over MQTT: the broker (embedded when `mqtt.url` is empty), the connection, and the bridge that
 * publishes discovery and states and takes commands back (through the command table).
 */
export function homeAssistantFeature(): Feature {
  return defineFeature({
    name: 'home-assistant',
    roles: ['bridge'],
    async start(ctx, stop) {
      ctx.running.mqtt = await startMqtt(ctx, stop);
    },
  });
}

async function startMqtt(ctx: FeatureContext, stack: StopStack): Promise<MqttBridge> {
  const { config, db, bus, alerts, arming, log, clock } = ctx;
  const { options, broker } = await startBroker(config, log, stack);
  const connection = new MqttConnection(options);
  const commands = createCommandHandler({
    services: createCommandServices({ db, bus, alerts, arming }),
    log,
    maxPayloadBytes: config.mqtt.max_payload_bytes,
    alarmCode: config.homeassistant.alarm_code,
    clock,
  });
  if (broker !== undefined) ctx.failedLogins.register('mqtt', () => broker.failedLogins);
  ctx.failedLogins.register('alarm_code', () => commands.failedCodes);
  const bridge = new MqttBridge({
    brokerUrl: options.url,
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
    status: ctx.status,
    components: ctx.contributions.haComponents,
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
