import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { type Hsi, startHsi } from '../../src/main.js';
import type { Db } from '../../src/storage/database.js';
import { MqttWatcher, type SeenMessage } from './mqtt-watcher.js';
import { seedDetections } from './seed.js';

/**
 * Home Assistant played by a plain mqtt.js client, for the end-to-end MQTT tests: it listens to HSI's base topic and
 * the discovery prefix of one test environment, sends commands and birth messages, and waits for answers.
 */

/** The broker a started HSI is connected to (Mosquitto, or its embedded broker on a free port). */
export function brokerUrl(hsi: Hsi): string {
  const url = hsi.mqtt?.url;
  if (url === undefined) throw new Error('this HSI runs without the bridge role: no MQTT broker');
  return url;
}

/** HSI started in this process from a test environment's variables (a restart reuses its data dir / database). */
export async function startHsiFrom(env: Record<string, string>, root: string, log = silentLogger()): Promise<Hsi> {
  const { config } = loadConfig({ env, cwd: process.cwd(), optionsFile: path.join(root, 'no-options.json') });
  return startHsi(config, log);
}

export interface Topics {
  base: string;
  prefix: string;
}

export function topicsOf(env: Record<string, string>): Topics {
  const base = env.HSI_MQTT_BASE_TOPIC;
  const prefix = env.HSI_MQTT_DISCOVERY_PREFIX;
  if (base === undefined || prefix === undefined) throw new Error('test environment without its own MQTT topics');
  return { base, prefix };
}

/** The messages of `topic` since `from`, payloads only. */
export function payloadsOf(messages: readonly SeenMessage[], topic: string, from = 0): string[] {
  return messages.slice(from).flatMap((m) => (m.topic === topic ? [m.payload] : []));
}

export class HomeAssistant {
  private constructor(
    readonly watcher: MqttWatcher,
    readonly topics: Topics,
    /** Raw payloads of binary topics (snapshots), newest last. */
    readonly raw: Map<string, Buffer[]>,
    private readonly receivedAt: number[],
  ) {}

  /** Connects to `url` and subscribes to everything under the base topic and the discovery prefix. */
  static async connect(url: string, topics: Topics): Promise<HomeAssistant> {
    const watcher = await MqttWatcher.open(url, []);
    const raw = new Map<string, Buffer[]>();
    const receivedAt: number[] = [];
    // Registered after the watcher's own listener: receivedAt[i] is the arrival time of messages[i].
    watcher.client.on('message', (topic, payload) => {
      receivedAt.push(performance.now());
      if (topic.endsWith('/snapshot')) raw.set(topic, [...(raw.get(topic) ?? []), Buffer.from(payload)]);
    });
    await watcher.client.subscribeAsync([`${topics.base}/#`, `${topics.prefix}/#`], { qos: 1 });
    return new HomeAssistant(watcher, topics, raw, receivedAt);
  }

  get messages(): readonly SeenMessage[] {
    return this.watcher.messages;
  }

  /** When `message` arrived (performance.now() milliseconds). */
  timeOf(message: SeenMessage): number {
    const time = this.receivedAt[this.watcher.messages.indexOf(message)];
    if (time === undefined) throw new Error(`message on ${message.topic} was not received by this client`);
    return time;
  }

  /** A position in the message log, for `next`. */
  mark(): number {
    return this.watcher.messages.length;
  }

  /** The first message on `topic` at or after `from` that passes `test` (already seen or future). */
  next(
    topic: string,
    test: (payload: string) => boolean = () => true,
    from = 0,
    timeoutMs = 10_000,
  ): Promise<SeenMessage> {
    // The watcher tests the messages in log order (those already seen, then each new one): `index` is the position.
    let index = 0;
    return this.watcher.waitFor(
      (m) => index++ >= from && m.topic === topic && test(m.payload),
      timeoutMs,
      `a message on ${topic} from #${from}`,
    );
  }

  /** `<base>/<suffix>`. */
  topic(suffix: string): string {
    return `${this.topics.base}/${suffix}`;
  }

  send(suffix: string, payload: string | Buffer): Promise<unknown> {
    return this.watcher.client.publishAsync(this.topic(suffix), payload, { qos: 1 });
  }

  /** Sends a JSON command carrying `transaction` and resolves with the response that echoes it. */
  async request(command: string, body: Record<string, unknown>, transaction: string | number): Promise<unknown> {
    const from = this.mark();
    await this.send(command, JSON.stringify({ ...body, transaction }));
    const response = await this.next(
      this.topic(`response/${command}`),
      (p) => (JSON.parse(p) as { transaction?: unknown }).transaction === transaction,
      from,
    );
    return JSON.parse(response.payload);
  }

  /** Home Assistant's birth message. */
  birth(): Promise<unknown> {
    return this.watcher.client.publishAsync(`${this.topics.prefix}/status`, 'online', { qos: 1 });
  }

  close(): Promise<void> {
    return this.watcher.close();
  }
}

/** Audit rows written after row `afterId`, oldest first, without their ids and times. */
export async function auditRowsAfter(db: Db, afterId: number) {
  const rows = await db
    .selectFrom('audit_logs')
    .select(['id', 'action', 'resource_type', 'resource_id', 'actor', 'status', 'details'])
    .where('id', '>', afterId)
    .orderBy('id')
    .execute();
  return rows.map(({ id: _id, ...row }) => row);
}

export async function lastAuditId(db: Db): Promise<number> {
  const row = await db.selectFrom('audit_logs').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row?.id ?? 0;
}

/**
 * Raises `count` alerts on `cameraId` the way the pipeline does: a seeded person detection per event, analysed by
 * HSI's own analysis worker (rules scorer), so the alert service and the bridge see real events. Needs a rule that
 * fires on every event (`risk_threshold: 0`, `dedup_key_template: '{event_id}'`). Returns the alert ids, oldest first.
 */
export async function raiseAlerts(hsi: Hsi, ha: HomeAssistant, cameraId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const from = ha.mark();
    const detectionIds = await seedDetections(hsi.store.db, cameraId, [{ objectType: 'person', confidence: 0.8 }]);
    const now = Date.now();
    await hsi.analysisQueue.add({
      batchId: `${cameraId}:seeded-${detectionIds[0]}`,
      cameraId,
      detectionIds,
      isFastPath: false,
      reason: 'idle',
      startedAt: now,
      endedAt: now,
      closedAt: now,
    });
    const fired = await ha.next(ha.topic('hub/alert'), () => true, from);
    ids.push((JSON.parse(fired.payload) as { alert_id: string }).alert_id);
  }
  return ids;
}

/** Zones and a rule that raises one `high` alert per event, for the command tests (env values). */
export const COMMAND_TEST_ENV: Readonly<Record<string, string>> = {
  HSI_ZONES: JSON.stringify([
    {
      camera_id: 'front_door',
      name: 'Porch',
      polygon: [
        [0, 0],
        [1, 0],
        [1, 1],
        [0, 1],
      ],
    },
  ]),
  HSI_ALERTS_DEFAULT_RULES: 'false',
  HSI_ALERTS_RULES: JSON.stringify([
    { name: 'Every event', severity: 'high', risk_threshold: 0, dedup_key_template: '{event_id}' },
  ]),
};
export const PORCH = 'front_door__porch';
