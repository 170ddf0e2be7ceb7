import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { BusEvents } from '../domain/events.js';
import { RISK_LEVELS } from '../domain/risk.js';
import type { EventBus } from '../lib/event-bus.js';
import type { LoginService } from '../lib/failed-logins.js';
import type { Logger } from '../lib/logger.js';
import type { ApiStatus, ReadinessChecks } from './deps.js';

export interface MetricsDeps {
  /**
   * The system-status read model: queue counts, media files by status, active alerts and the refused logins of the
   * services running in this process (FTP, embedded broker, alarm code).
   */
  status: Pick<ApiStatus, 'queueCounts' | 'mediaFiles' | 'activeAlerts' | 'failedLogins'>;
  bus: EventBus<BusEvents>;
  checks: Pick<ReadinessChecks, 'mqttConnected'>;
  log: Logger;
}

export interface ApiMetrics {
  readonly registry: Registry;
  /** The Prometheus text exposition of every metric. */
  render(): Promise<string>;
  /** Stops listening to the bus. */
  close(): void;
}

const MS_BUCKETS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'dead'] as const;

/** Reads a value at scrape; a backend that fails leaves the metric as it was and logs why. */
function guarded(log: Logger, what: string, fn: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await fn();
    } catch (error) {
      log.warn({ err: error, metric: what }, 'metric not refreshed');
    }
  };
}

/**
 * The service's metrics on a registry of its own (never the global one): queue depths, media files by status, active
 * alerts, the MQTT connection and refused logins per service read at scrape; inference and pipeline latency
 * histograms, events by level and alerts by severity counted from the bus; plus the process metrics.
 */
export function createMetrics(deps: MetricsDeps): ApiMetrics {
  const { status: reader, bus, checks, log } = deps;
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  const queueJobs = new Gauge({
    name: 'hsi_queue_jobs',
    help: 'Jobs in each queue by state (dead = dead letters)',
    labelNames: ['queue', 'state'] as const,
    registers,
    collect: guarded(log, 'hsi_queue_jobs', async () => {
      for (const [queue, counts] of Object.entries(await reader.queueCounts())) {
        for (const state of QUEUE_STATES) queueJobs.set({ queue, state }, counts[state]);
      }
    }),
  });
  const mediaFiles = new Gauge({
    name: 'hsi_media_files',
    help: 'Media files by processing status',
    labelNames: ['status'] as const,
    registers,
    collect: guarded(log, 'hsi_media_files', async () => {
      for (const [status, n] of Object.entries(await reader.mediaFiles())) mediaFiles.set({ status }, n);
    }),
  });
  const activeAlerts: Gauge = new Gauge({
    name: 'hsi_alerts_active',
    help: 'Alerts pending or delivered, not yet acknowledged or dismissed',
    registers,
    collect: guarded(log, 'hsi_alerts_active', async () => activeAlerts.set(await reader.activeAlerts())),
  });
  const mqtt: Gauge = new Gauge({
    name: 'hsi_mqtt_connected',
    help: '1 while connected to the MQTT broker',
    registers,
    collect: () => mqtt.set(checks.mqttConnected() ? 1 : 0),
  });

  const seenFailures = new Map<LoginService, number>();
  const failedLogins: Counter<'service'> = new Counter({
    name: 'hsi_failed_logins_total',
    help: 'Logins refused since start, by service: ftp, mqtt (the embedded broker), alarm_code (the alarm panel)',
    labelNames: ['service'] as const,
    registers,
    collect: () => {
      for (const [service, count] of Object.entries(reader.failedLogins()) as [LoginService, number][]) {
        const delta = count - (seenFailures.get(service) ?? 0);
        if (delta < 0) continue;
        failedLogins.inc({ service }, delta);
        seenFailures.set(service, count);
      }
    },
  });

  const inference = new Histogram({
    name: 'hsi_inference_ms',
    help: 'Detector inference time per image or frame batch, milliseconds',
    buckets: MS_BUCKETS,
    registers,
  });
  const latency = new Histogram({
    name: 'hsi_detection_latency_ms',
    help: 'From the file being stable to its detections committed, milliseconds',
    buckets: MS_BUCKETS,
    registers,
  });
  const events = new Counter({
    name: 'hsi_events_total',
    help: 'Security events created, by risk level',
    labelNames: ['level'] as const,
    registers,
  });
  const alerts = new Counter({
    name: 'hsi_alerts_total',
    help: 'Alerts raised, by severity',
    labelNames: ['severity'] as const,
    registers,
  });
  for (const level of RISK_LEVELS) {
    events.inc({ level }, 0);
    alerts.inc({ severity: level }, 0);
  }

  const off = [
    bus.on('media.processed', (e) => {
      if (e.timings.inferenceMs > 0) inference.observe(e.timings.inferenceMs);
      latency.observe(e.latencyMs);
    }),
    bus.on('event.created', ({ event }) => events.inc({ level: event.riskLevel })),
    bus.on('alert.created', ({ alert }) => alerts.inc({ severity: alert.severity })),
  ];
  return {
    registry,
    render: () => registry.metrics(),
    close() {
      for (const unsubscribe of off.splice(0)) unsubscribe();
      registry.clear();
    },
  };
}
