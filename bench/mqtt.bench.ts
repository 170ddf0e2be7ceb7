import { rmSync } from 'node:fs';
import path from 'node:path';
import { connectAsync } from 'mqtt';
import { loadConfig } from '../src/config/load.js';
import type { EventRecord } from '../src/domain/events.js';
import { createLogger } from '../src/lib/logger.js';
import { startHsi } from '../src/main.js';
import { type Figure, percentile, round, tempDir } from './support.js';

const WARMUP = 20;
const TARGET_P95_MS = 5;

function syntheticEvent(id: number, cameraId: string): EventRecord {
  const at = new Date();
  return {
    id,
    batchId: `${cameraId}:bench-${id}`,
    cameraId,
    startedAt: at,
    endedAt: at,
    riskScore: 12,
    riskLevel: 'low',
    summary: 'A person walks past the front door.',
    reasoning: 'Daytime, brief, no interaction with the door.',
    recommendedAction: null,
    objectTypes: ['person'],
    detectionCount: 1,
    isFastPath: false,
    analysisSource: 'rules',
    closedAt: null,
  };
}

/**
 * Latencies (ms) from `event.created` on HSI's bus to the `<base>/events/<camera>` message arriving at a subscriber
 * (Home Assistant's seat), through HSI's embedded broker; one event at a time, after a short warm-up.
 */
async function eventToMqttLatencies(env: Record<string, string>, count: number): Promise<number[]> {
  const root = tempDir('hsi-bench-mqtt-');
  const base = `hsi-bench-${process.pid}`;
  const { config } = loadConfig({
    env: {
      ...env,
      HSI_DATA_DIR: path.join(root, 'data'),
      HSI_MEDIA_ROOT: path.join(root, 'media'),
      HSI_MQTT_URL: '',
      HSI_MQTT_EMBEDDED_PORT: '0',
      HSI_HTTP_PORT: '0',
      HSI_MQTT_BASE_TOPIC: base,
      HSI_MQTT_DISCOVERY_PREFIX: `${base}-ha`,
    },
    optionsFile: path.join(root, 'none.json'),
  });
  const hsi = await startHsi(config, createLogger('warn'));
  const url = hsi.mqtt?.url;
  if (url === undefined) throw new Error('HSI started without its MQTT bridge');
  const client = await connectAsync(url, { reconnectPeriod: 0 });
  const camera = 'bench_door';
  const topic = `${base}/events/${camera}`;
  const waiting = new Map<number, (receivedAt: number) => void>();
  // Measured once the start-up publishing (discovery, states, health last) is over.
  let settled: () => void = () => undefined;
  const started = new Promise<void>((resolve) => {
    settled = resolve;
  });
  client.on('message', (received, payload) => {
    const at = performance.now();
    if (received !== topic) return settled();
    const { id } = JSON.parse(payload.toString()) as { id: number };
    waiting.get(id)?.(at);
    waiting.delete(id);
  });
  await client.subscribeAsync([topic, `${base}/health/system`], { qos: 1 });
  await started;
  const latencies: number[] = [];
  try {
    for (let i = 1; i <= WARMUP + count; i++) {
      const received = new Promise<number>((resolve) => waiting.set(i, resolve));
      const sentAt = performance.now();
      hsi.bus.emit('event.created', { event: syntheticEvent(i, camera), latencyMs: 0 });
      const at = await received;
      if (i > WARMUP) latencies.push(at - sentAt);
    }
  } finally {
    await client.endAsync();
    await hsi.stop();
    rmSync(root, { recursive: true, force: true });
  }
  return latencies;
}

/** The MQTT figure: `event.created` to the event on `<base>/events/<camera>` at a subscriber, embedded broker. */
export async function runMqttBench(env: Record<string, string>, events = 300): Promise<Figure[]> {
  const latencies = await eventToMqttLatencies(env, Math.max(200, events));
  const p95 = percentile(latencies, 95);
  return [
    {
      name: 'MQTT: event.created -> events topic p50',
      value: `${round(percentile(latencies, 50), 2)} ms`,
      target: '',
      ok: undefined,
    },
    {
      name: 'MQTT: event.created -> events topic p95',
      value: `${round(p95, 2)} ms`,
      target: `<= ${TARGET_P95_MS} ms`,
      ok: p95 <= TARGET_P95_MS,
    },
  ];
}
