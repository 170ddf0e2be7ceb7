import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../../src/api/server.js';
import type { DetectionJob } from '../../../src/queue/contracts.js';
import { seedDetections } from '../../support/seed.js';
import { ENGINES, engineUnavailable } from '../../support/stores.js';
import { type ApiHarness, call, createHarness, type ErrorJson, seedEvent } from './harness.js';

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\.)*"';
const HELP_LINE = new RegExp(`^# HELP (${NAME}) .+$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
// prom-client writes NaN as `Nan`; Prometheus parses floats case-insensitively (Go's ParseFloat), so both pass.
const SAMPLE_LINE = new RegExp(
  `^(${NAME})(\\{${LABEL}(?:,${LABEL})*\\})? (-?[0-9.]+(?:e[+-]?\\d+)?|NaN|Nan|\\+Inf|-Inf)$`,
);

/** Parses the Prometheus text format strictly: every line is HELP, TYPE, a sample of a declared family, or blank. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const families = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || HELP_LINE.test(line)) continue;
    const type = TYPE_LINE.exec(line);
    if (type !== null) {
      families.set(type[1]!, type[2]!);
      continue;
    }
    const sample = SAMPLE_LINE.exec(line);
    if (sample === null) throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
    const name = sample[1]!;
    const family = name.replace(/_(bucket|sum|count|total|created)$/, '');
    if (!families.has(name) && !families.has(family)) throw new Error(`sample of an undeclared metric: ${line}`);
    samples.set(`${name}${sample[2] ?? ''}`, Number(sample[3]));
  }
  return samples;
}

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} system API tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`health, stats, metrics, OpenAPI and dead letters on ${engine}`, () => {
    let h: ApiHarness;
    beforeAll(async () => {
      h = await createHarness(engine);
    });
    afterAll(async () => h?.close());

    it('reports liveness and the state of each backend', async () => {
      expect((await call(h.app, { url: '/api/health/live' })).json).toStrictEqual({ status: 'ok' });
      const ready = await call<{ status: string; checks: Record<string, { ok: boolean }> }>(h.app, {
        url: '/api/health/ready',
      });
      expect([ready.res.statusCode, ready.json.status]).toStrictEqual([200, 'ok']);
      expect(ready.json.checks.queues).toMatchObject({
        ok: true,
        counts: { detection: { waiting: 0, active: 0, delayed: 0, dead: 0 }, analysis: expect.any(Object) },
      });
      h.mqtt.connected = false;
      const degraded = await call<{ status: string; checks: { mqtt: unknown } }>(h.app, { url: '/api/health/ready' });
      expect([degraded.res.statusCode, degraded.json.status, degraded.json.checks.mqtt]).toStrictEqual([
        200,
        'degraded',
        { ok: false, connected: false },
      ]);
      h.mqtt.connected = true;

      const down = await createApi(h.config, {
        ...h.deps,
        checks: { ...h.deps.checks, database: async () => Promise.reject(new Error('connection refused')) },
      });
      try {
        const res = await call<{ status: string; checks: { database: unknown } }>(down, { url: '/api/health/ready' });
        expect([res.res.statusCode, res.json.status, res.json.checks.database]).toStrictEqual([
          503,
          'unavailable',
          { ok: false, latency_ms: expect.any(Number), error: 'connection refused' },
        ]);
      } finally {
        await down.close();
      }

      // The media root gone: uploads are not watched, HSI is not ready (issue 11 #7).
      const blind = await createApi(h.config, {
        ...h.deps,
        checks: { ...h.deps.checks, ingest: () => ({ ok: false, reason: 'media root /media is gone' }) },
      });
      try {
        const res = await call<{ status: string; checks: { ingest: unknown } }>(blind, { url: '/api/health/ready' });
        expect([res.res.statusCode, res.json.status, res.json.checks.ingest]).toStrictEqual([
          503,
          'unavailable',
          { ok: false, error: 'media root /media is gone' },
        ]);
      } finally {
        await blind.close();
      }
    });

    it('counts media, events by level, active alerts and queue depths', async () => {
      await seedEvent(h.db, {
        summary: 'Break-in at the back door',
        riskScore: 90,
        riskLevel: 'critical',
        startedAt: new Date(),
      });
      await seedEvent(h.db, { summary: 'Postman', startedAt: new Date() });
      await h.detectionQueue.add(
        { mediaFileId: 999, cameraId: 'x', path: 'x/y.jpg', queuedAt: 0 },
        { jobId: 'media-999' },
      );
      const { json } = await call(h.app, { url: '/api/stats' });
      expect(json).toStrictEqual({
        media_files: { queued: 0, processing: 0, done: 2, failed: 0, rejected: 0 },
        events: { total: 2, low: 1, medium: 0, high: 0, critical: 1 },
        alerts: { active: 0 },
        queues: {
          detection: { waiting: 1, active: 0, delayed: 0, dead: 0 },
          analysis: { waiting: 0, active: 0, delayed: 0, dead: 0 },
        },
        cameras: 1,
      });
    });

    it('exposes Prometheus metrics fed by the bus and read at scrape', async () => {
      const scrape = async () => {
        const res = await h.app.inject({ url: '/metrics' });
        expect(res.headers['content-type']).toContain('text/plain');
        return parsePrometheus(res.body);
      };
      const before = await scrape();
      expect(before.get('hsi_events_total{level="critical"}')).toBe(0);
      const event = await seedEvent(h.db, {
        summary: 'Forced entry',
        riskScore: 95,
        riskLevel: 'critical',
        startedAt: new Date(),
      });
      h.bus.emit('event.created', {
        event: { ...event, recommendedAction: null },
        latencyMs: 40,
      });
      h.bus.emit('media.processed', {
        mediaFileId: 1,
        cameraId: 'front_door',
        path: 'front_door/a.jpg',
        detectionCount: 1,
        latencyMs: 180,
        timings: { preprocessMs: 4, inferenceMs: 42, postprocessMs: 1 },
      });
      h.mqtt.connected = false;
      const after = await scrape();
      h.mqtt.connected = true;
      expect(after.get('hsi_events_total{level="critical"}')).toBe(1);
      expect(after.get('hsi_events_total{level="low"}')).toBe(0);
      expect(after.get('hsi_alerts_total{severity="high"}')).toBe(0);
      expect(after.get('hsi_inference_ms_count')).toBe(1);
      expect(after.get('hsi_inference_ms_sum')).toBe(42);
      expect(after.get('hsi_inference_ms_bucket{le="50"}')).toBe(1);
      expect(after.get('hsi_inference_ms_bucket{le="25"}')).toBe(0);
      expect(after.get('hsi_detection_latency_ms_count')).toBe(1);
      expect(after.get('hsi_queue_jobs{queue="detection",state="waiting"}')).toBe(1);
      expect(after.get('hsi_media_files{status="done"}')).toBe(3);
      expect(after.get('hsi_mqtt_connected')).toBe(0);
      expect(after.get('hsi_alerts_active')).toBe(0);
      expect(after.get('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    });

    it('serves the OpenAPI document with every route', async () => {
      const { res, json } = await call<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(h.app, {
        url: '/api/openapi.json',
      });
      expect([res.statusCode, json.openapi]).toStrictEqual([200, '3.1.0']);
      const operations = Object.entries(json.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
      expect(operations.sort()).toStrictEqual(
        [
          'get /api/health/live',
          'get /api/health/ready',
          'get /api/stats',
          'get /api/logs',
          'get /metrics',
          'get /api/cameras',
          'get /api/cameras/{id}',
          'patch /api/cameras/{id}',
          'delete /api/cameras/{id}',
          'get /api/events',
          'get /api/events/{id}',
          'patch /api/events/{id}',
          'delete /api/events/{id}',
          'post /api/events/{id}/feedback',
          'get /api/feedback/summary',
          'get /api/detections/{id}/image',
          'get /api/detections/{id}/thumbnail',
          'get /api/alerts',
          'post /api/alerts/{id}/acknowledge',
          'post /api/alerts/{id}/dismiss',
          'post /api/alerts/acknowledge',
          'post /api/alerts/dismiss',
          'get /api/alert-rules',
          'post /api/alert-rules',
          'get /api/alert-rules/{id}',
          'put /api/alert-rules/{id}',
          'delete /api/alert-rules/{id}',
          'post /api/alert-rules/{id}/test',
          'get /api/zones',
          'post /api/zones',
          'get /api/zones/{id}',
          'put /api/zones/{id}',
          'delete /api/zones/{id}',
          'get /api/arming',
          'put /api/arming',
          'put /api/zones/{id}/armed',
          'get /api/dead-letters',
          'post /api/dead-letters/requeue',
          'get /api/audit',
        ].sort(),
      );
    });

    it('lists dead letters and requeues them: rows back to queued, jobs queued again', async () => {
      const ids: number[] = [];
      for (let i = 0; i < 3; i++) {
        await seedDetections(h.db, 'garage', []);
      }
      const failed = await h.db
        .updateTable('media_files')
        .set({ status: 'failed', error_code: 'TRANSIENT', error: 'database timeout', attempts: 5 })
        .where('camera_id', '=', 'garage')
        .returning('id')
        .execute();
      ids.push(...failed.map((r) => r.id).sort((a, b) => a - b));
      let runs = 0;
      h.analysisQueue.process(
        async () => {
          runs += 1;
          if (runs === 1) throw new Error('LLM unreachable');
        },
        { concurrency: 1 },
      );
      await h.analysisQueue.add(
        {
          batchId: 'garage:1',
          cameraId: 'garage',
          detectionIds: [],
          isFastPath: false,
          reason: 'idle',
          startedAt: 0,
          endedAt: 0,
          closedAt: 0,
        },
        { jobId: 'batch-garage.1' },
      );
      await expect.poll(async () => (await h.analysisQueue.counts()).dead).toBe(1);

      const list = await call<{ media_files: { id: number; error: string }[]; jobs: Record<string, unknown>[] }>(
        h.app,
        {
          url: '/api/dead-letters',
        },
      );
      expect(list.json.media_files.map((m) => [m.id, m.error]).sort()).toStrictEqual(
        ids.map((id) => [id, 'database timeout']),
      );
      expect(list.json.jobs).toStrictEqual([
        {
          queue: 'analysis',
          id: 'batch-garage.1',
          error: 'LLM unreachable',
          attempts: 1,
          failed_at: expect.any(String),
        },
      ]);

      const empty = await call<ErrorJson>(h.app, { method: 'POST', url: '/api/dead-letters/requeue', payload: {} });
      expect([empty.res.statusCode, empty.json.error.field]).toStrictEqual([400, 'body']);
      const one = await call(h.app, { method: 'POST', url: '/api/dead-letters/requeue', payload: { ids: [ids[0]] } });
      expect(one.json).toStrictEqual({ media_files: [ids[0]], jobs: [] });
      const rest = await call(h.app, { method: 'POST', url: '/api/dead-letters/requeue', payload: { all: true } });
      expect(rest.json).toStrictEqual({ media_files: ids.slice(1), jobs: ['batch-garage.1'] });
      await expect.poll(async () => (await h.analysisQueue.counts()).dead).toBe(0);
      expect(runs).toBe(2);

      const rows = await h.db.selectFrom('media_files').select(['status', 'attempts']).where('id', 'in', ids).execute();
      expect(rows).toStrictEqual(ids.map(() => ({ status: 'queued', attempts: 0 })));
      const pending = (await h.detectionQueue.pending()) as DetectionJob[];
      expect(
        pending
          .map((j) => j.mediaFileId)
          .filter((id) => ids.includes(id))
          .sort((a, b) => a - b),
      ).toStrictEqual(ids);
      const audit = await call<{ entries: { details: unknown }[] }>(h.app, {
        url: '/api/audit?action=dead_letters.requeue',
      });
      expect(audit.json.entries.map((e) => e.details)).toStrictEqual([
        { media_files: ids.slice(1), jobs: ['batch-garage.1'] },
        { media_files: [ids[0]], jobs: [] },
      ]);
    });
  });
}
