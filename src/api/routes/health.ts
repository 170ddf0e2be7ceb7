import type { FastifyInstance } from 'fastify';
import { errorMessage } from '../../lib/errors.js';
import type { ApiContext } from '../context.js';
import { errors, queueCountsSchema } from '../schemas.js';

/** A probe that takes longer than this counts as down: readiness must answer even when a backend hangs. */
const CHECK_TIMEOUT_MS = 3000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface CheckResult {
  ok: boolean;
  latency_ms: number;
  error?: string;
}

async function probe<T>(what: string, fn: () => Promise<T>): Promise<{ result: CheckResult; value?: T }> {
  const started = performance.now();
  try {
    const value = await withTimeout(fn(), what);
    return { result: { ok: true, latency_ms: Math.round(performance.now() - started) }, value };
  } catch (error) {
    return { result: { ok: false, latency_ms: Math.round(performance.now() - started), error: errorMessage(error) } };
  }
}

const checkSchema = {
  type: 'object',
  properties: { ok: { type: 'boolean' }, latency_ms: { type: 'integer' }, error: { type: 'string' } },
} as const;

const readySchema = {
  type: 'object',
  description:
    '`ok`: every backend answers; `degraded`: only MQTT is down; `unavailable` (503): database or queues down, or ' +
    'uploads not watched (the media root is gone; `checks.ingest`, in a process with the ingest role).',
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded', 'unavailable'] },
    checks: {
      type: 'object',
      properties: {
        database: checkSchema,
        queues: {
          ...checkSchema,
          properties: {
            ...checkSchema.properties,
            counts: { type: 'object', additionalProperties: queueCountsSchema },
          },
        },
        mqtt: { type: 'object', properties: { ok: { type: 'boolean' }, connected: { type: 'boolean' } } },
        ingest: checkSchema,
      },
    },
  },
} as const;

const statsSchema = {
  type: 'object',
  properties: {
    media_files: { type: 'object', additionalProperties: { type: 'integer' } },
    events: { type: 'object', additionalProperties: { type: 'integer' } },
    alerts: { type: 'object', properties: { active: { type: 'integer' } } },
    queues: { type: 'object', additionalProperties: queueCountsSchema },
    cameras: { type: 'integer' },
  },
} as const;

export function healthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { checks } = ctx.deps;
  app.get(
    '/api/health/live',
    {
      schema: {
        tags: ['health'],
        summary: 'Liveness: the process answers (no authentication)',
        response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/api/health/ready',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: state of each backend',
        response: { 200: readySchema, 503: readySchema, ...errors() },
      },
    },
    async (_request, reply) => {
      const [database, queues] = await Promise.all([
        probe('database', checks.database),
        probe('queues', checks.queues),
      ]);
      const connected = checks.mqttConnected();
      // Uploads not watched (the media root is gone) is HSI not doing its job: not ready.
      const ingest = checks.ingest?.();
      const down = !database.result.ok || !queues.result.ok || ingest?.ok === false;
      const status = down ? 'unavailable' : connected ? 'ok' : 'degraded';
      const queueCheck = queues.value === undefined ? queues.result : { ...queues.result, counts: queues.value };
      return reply.status(down ? 503 : 200).send({
        status,
        checks: {
          database: database.result,
          queues: queueCheck,
          mqtt: { ok: connected, connected },
          ...(ingest === undefined ? {} : { ingest: ingest.ok ? { ok: true } : { ok: false, error: ingest.reason } }),
        },
      });
    },
  );

  app.get(
    '/api/stats',
    {
      schema: {
        tags: ['health'],
        summary: 'Media files by status, events by level, active alerts, queue depths, cameras',
        response: { 200: statsSchema, ...errors() },
      },
    },
    async () => {
      const stats = await ctx.status.stats();
      const events: Record<string, number> = { total: 0 };
      for (const level of stats.eventsByLevel) {
        events[level.level] = level.events;
        events.total = (events.total ?? 0) + level.events;
      }
      return {
        media_files: stats.mediaFiles,
        events,
        alerts: { active: stats.activeAlerts },
        queues: stats.queues,
        cameras: stats.cameras.total,
      };
    },
  );
}
