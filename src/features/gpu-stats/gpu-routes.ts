import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../../api/context.js';
import { errors } from '../../api/schemas.js';
import { listGpuStats } from '../../storage/gpu-stats.repository.js';

interface GpuQuery {
  since?: string;
  limit: number;
}

const nullableNumber = { type: ['number', 'null'] } as const;

/** `GET /api/gpu`: stored GPU samples, oldest first (for charts): one row per GPU per sample. */
export function gpuRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: GpuQuery }>(
    '/api/gpu',
    {
      schema: {
        tags: ['system'],
        summary: 'GPU samples (nvidia-smi every 30 s where a GPU is found), oldest first; the newest `limit`',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            since: { type: 'string', format: 'date-time' },
            limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 1000 },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['samples'],
            properties: {
              samples: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    recorded_at: { type: 'string', format: 'date-time' },
                    name: { type: ['string', 'null'] },
                    utilization_pct: nullableNumber,
                    memory_used_mib: nullableNumber,
                    memory_total_mib: nullableNumber,
                    temperature_c: nullableNumber,
                    power_w: nullableNumber,
                    inference_fps: nullableNumber,
                  },
                },
              },
            },
          },
          ...errors(400),
        },
      },
    },
    async (request) => {
      const { since, limit } = request.query;
      const stats = await listGpuStats(ctx.deps.db, {
        limit,
        ...(since === undefined ? {} : { since: new Date(since) }),
      });
      return {
        samples: stats.map((s) => ({
          recorded_at: s.recordedAt.toISOString(),
          name: s.gpuName,
          utilization_pct: s.gpuUtilization,
          memory_used_mib: s.memoryUsed,
          memory_total_mib: s.memoryTotal,
          temperature_c: s.temperature,
          power_w: s.powerUsage,
          inference_fps: s.inferenceFps,
        })),
      };
    },
  );
}
