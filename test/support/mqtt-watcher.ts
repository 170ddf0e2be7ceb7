import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { createLogger, type Logger } from '../../src/lib/logger.js';

export interface SeenMessage {
  topic: string;
  payload: string;
  retain: boolean;
}

/** A unique base topic per test, so tests on the shared Mosquitto never see each other's messages. */
export function uniqueBaseTopic(): string {
  return `hsi-test-${randomBytes(5).toString('hex')}`;
}

/** A plain mqtt.js client playing Home Assistant: records every message under its filters. */
export class MqttWatcher {
  readonly messages: SeenMessage[] = [];
  private readonly waiters: { test: (m: SeenMessage) => boolean; resolve: (m: SeenMessage) => void }[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const message = { topic, payload: payload.toString('utf8'), retain: packet.retain };
      this.messages.push(message);
      for (const waiter of [...this.waiters]) {
        if (!waiter.test(message)) continue;
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    });
  }

  static async open(url: string, filters: string[], options: IClientOptions = {}): Promise<MqttWatcher> {
    const client = await connectAsync(url, { reconnectPeriod: 0, ...options });
    const watcher = new MqttWatcher(client);
    if (filters.length > 0) await client.subscribeAsync(filters, { qos: 1 });
    return watcher;
  }

  /** Resolves with the first message (already seen or future) that passes `test`. */
  waitFor(test: (m: SeenMessage) => boolean, timeoutMs = 5000, what = 'an MQTT message'): Promise<SeenMessage> {
    const seen = this.messages.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
        timeoutMs,
      );
      this.waiters.push({
        test,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  publish(topic: string, payload: string, retain = false): Promise<unknown> {
    return this.client.publishAsync(topic, payload, { qos: 1, retain });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** The retained payload of `topic` as a fresh subscriber sees it, or undefined when none arrives in `waitMs`. */
export async function readRetained(url: string, topic: string, waitMs = 1000): Promise<string | undefined> {
  const watcher = await MqttWatcher.open(url, [topic]);
  try {
    const message = await watcher.waitFor((m) => m.topic === topic && m.retain, waitMs).catch(() => undefined);
    return message?.payload;
  } finally {
    await watcher.close();
  }
}

/** Clears every retained message under `<base>/#` (empty retained payloads), so the shared broker stays clean. */
export async function clearRetained(url: string, base: string): Promise<void> {
  const watcher = await MqttWatcher.open(url, [`${base}/#`]);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const topics = new Set(watcher.messages.filter((m) => m.retain && m.payload !== '').map((m) => m.topic));
  for (const topic of topics) await watcher.publish(topic, '', true);
  await watcher.close();
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A debug-level pino logger whose lines are kept (parsed) and also as raw text, to assert on logs. */
export function captureLog(): { log: Logger; lines: LogLine[]; raw: string[] } {
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (text === '') continue;
        raw.push(text);
        lines.push(JSON.parse(text) as LogLine);
      }
      done();
    },
  });
  return { log: createLogger('debug', sink), lines, raw };
}

/** Polls `check` every 20 ms until it is true. */
export async function until(check: () => boolean, timeoutMs = 5000, what = 'a condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
