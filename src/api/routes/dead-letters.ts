import type { FastifyInstance } from 'fastify';
import { QUEUE_NAMES } from '../../queue/contracts.js';
import { listFailed, requeueFailed } from '../../storage/media-file.repository.js';
import type { ApiContext } from '../context.js';
import { badRequest } from '../errors.js';
import { failedMediaJson, iso } from '../present.js';
import { errors, failedMediaSchema } from '../schemas.js';

interface RequeueBody {
  ids?: number[];
  job_ids?: string[];
  all?: boolean;
}

const jobSchema = {
  type: 'object',
  properties: {
    queue: { type: 'string' },
    id: { type: 'string' },
    error: { type: 'string' },
    attempts: { type: 'integer' },
    failed_at: { type: 'string', format: 'date-time' },
  },
} as const;

const listSchema = {
  type: 'object',
  description: '`media_files`: files whose detection exhausted its retries; `jobs`: analysis jobs that did',
  properties: {
    media_files: { type: 'array', items: failedMediaSchema },
    jobs: { type: 'array', items: jobSchema },
  },
} as const;

const requeueSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  description: 'Name media file `ids` and/or analysis `job_ids`, or `all: true` for every dead letter',
  properties: {
    ids: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'integer', minimum: 1 } },
    job_ids: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string', minLength: 1 } },
    all: { type: 'boolean' },
  },
} as const;

const requeuedSchema = {
  type: 'object',
  properties: {
    media_files: { type: 'array', items: { type: 'integer' } },
    jobs: { type: 'array', items: { type: 'string' } },
  },
} as const;

export function deadLetterRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { db, queues, clock, enqueueDetection } = ctx.deps;
  const analysis = queues[QUEUE_NAMES.analysis];
  app.get<{ Querystring: { limit: number } }>(
    '/api/dead-letters',
    {
      schema: {
        tags: ['dead letters'],
        summary: 'Work that exhausted its retries',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        },
        response: { 200: listSchema, ...errors(400) },
      },
    },
    async (request) => {
      const { limit } = request.query;
      const [files, jobs] = await Promise.all([listFailed(db, limit), analysis.deadLetters(limit)]);
      return {
        media_files: files.map(failedMediaJson),
        jobs: jobs.map((j) => ({
          queue: QUEUE_NAMES.analysis,
          id: j.id,
          error: j.error,
          attempts: j.attempts,
          failed_at: iso(new Date(j.failedAt)),
        })),
      };
    },
  );

  app.post<{ Body: RequeueBody }>(
    '/api/dead-letters/requeue',
    {
      schema: {
        tags: ['dead letters'],
        summary: 'Put dead letters back in their queue with fresh attempts',
        body: requeueSchema,
        response: { 200: requeuedSchema, ...errors(400) },
      },
    },
    async (request) => {
      const { ids, job_ids: jobIds, all } = request.body;
      if (all === false && ids === undefined && jobIds === undefined) {
        throw badRequest('all', 'all is false and no ids were named: nothing to requeue');
      }
      const rows = all === true || ids !== undefined ? await requeueFailed(db, all === true ? undefined : ids) : [];
      for (const row of rows) {
        await enqueueDetection({ mediaFileId: row.id, cameraId: row.camera_id, path: row.path, queuedAt: clock.now() });
      }
      const names = all === true ? (await analysis.deadLetters(1000)).map((j) => j.id) : (jobIds ?? []);
      const moved: string[] = [];
      for (const id of names) if (await analysis.requeue(id)) moved.push(id);
      const requeued = { media_files: rows.map((r) => r.id).sort((a, b) => a - b), jobs: moved };
      await ctx.audit(request, { action: 'dead_letters.requeue', resourceType: 'dead_letter', details: requeued });
      return requeued;
    },
  );
}
