import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

/** Every error the API answers: `{ error: { code, message, field? } }`; `field` names the bad input, when one is. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** An answer other than 2xx, thrown by a handler. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (message: string) => new ApiError(404, 'NOT_FOUND', message);
export const badRequest = (field: string, message: string) => new ApiError(400, 'INVALID_INPUT', message, field);
export const conflict = (message: string) => new ApiError(409, 'CONFLICT', message);

const APP_STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_INPUT: 400,
  NOT_FOUND: 404,
  MEDIA_GONE: 404,
  INVALID_TRANSITION: 409,
  MEDIA_CORRUPT: 422,
  MEDIA_TOO_LARGE: 422,
  MEDIA_UNSUPPORTED: 422,
  FFMPEG_MISSING: 503,
  TRANSIENT: 503,
};

/** Fastify's own 4xx errors (bad JSON, body too large, unknown content type) in the API's vocabulary. */
const HTTP_CODE: Readonly<Record<number, string>> = {
  400: 'INVALID_INPUT',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

const FIELD_AT_START = /^([A-Za-z_]\w*(?:\.\w+|\[\d+\])*)\s/;

/** Domain validation messages start with the field they are about (`schedule.start must be …`): that field. */
export function leadingField(message: string): string | undefined {
  return FIELD_AT_START.exec(message)?.[1];
}

interface ValidationItem {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** `/shape/points/2/0` → `shape.points[2][0]`, with the missing or unknown property appended. */
function fieldOf(item: ValidationItem, context: string): string {
  const segments = item.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  const extra = item.params.missingProperty ?? item.params.additionalProperty;
  if (typeof extra === 'string') segments.push(extra);
  const field = segments.reduce((acc, s) => (/^\d+$/.test(s) ? `${acc}[${s}]` : acc === '' ? s : `${acc}.${s}`), '');
  return field === '' ? context : field;
}

function describe(item: ValidationItem, field: string): string {
  if (item.keyword === 'additionalProperties') return `${field} is not a known field`;
  if (item.keyword === 'required') return `${field} is required`;
  if (item.keyword === 'format' && item.params.format === 'date-time') {
    return `${field} must be an ISO 8601 date-time such as 2026-03-01T22:15:00Z`;
  }
  if (item.keyword === 'enum' && Array.isArray(item.params.allowedValues)) {
    return `${field} must be one of ${item.params.allowedValues.join(', ')}`;
  }
  return `${field} ${item.message ?? 'is invalid'}`;
}

const WHERE: Readonly<Record<string, string>> = {
  body: 'body',
  querystring: 'query parameter',
  params: 'path parameter',
  headers: 'header',
};

function validationBody(error: FastifyError): ErrorBody {
  const item = error.validation?.[0] as ValidationItem | undefined;
  const context = error.validationContext ?? 'body';
  if (item === undefined) return { error: { code: 'INVALID_INPUT', message: error.message } };
  const field = fieldOf(item, context);
  const where = WHERE[context] ?? context;
  const message = field === context ? describe(item, field) : `${where} ${describe(item, field)}`;
  return { error: { code: 'INVALID_INPUT', message, field } };
}

/** The status and body for any error a handler or Fastify raised. */
export function errorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof ApiError) {
    const body: ErrorBody = { error: { code: error.code, message: error.message } };
    if (error.field !== undefined) body.error.field = error.field;
    return { status: error.status, body };
  }
  if (error instanceof AppError) {
    const status = APP_STATUS[error.code] ?? 500;
    const field = status === 400 ? leadingField(error.message) : undefined;
    const body: ErrorBody = { error: { code: error.code, message: error.message } };
    if (field !== undefined) body.error.field = field;
    return { status, body };
  }
  const fastify = error as Partial<FastifyError>;
  if (fastify.validation !== undefined) return { status: 400, body: validationBody(fastify as FastifyError) };
  const status = typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 ? fastify.statusCode : 500;
  if (status < 500) {
    const code = HTTP_CODE[status] ?? fastify.code ?? 'INVALID_INPUT';
    return { status, body: { error: { code, message: String(fastify.message) } } };
  }
  return { status, body: { error: { code: 'INTERNAL', message: 'internal error; see the HSI log' } } };
}

/** JSON errors everywhere, 5xx logged with their cause, unknown routes a 404 in the same shape. */
export function installErrorHandlers(app: FastifyInstance, log: Logger): void {
  app.setErrorHandler((error, request, reply) => {
    const { status, body } = errorResponse(error);
    if (status >= 500) log.error({ err: error, method: request.method, url: request.url }, 'API request failed');
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` } }),
  );
}

/**
 * Errors Fastify's router raises before any hook or handler (a URL that does not decode, a path parameter over
 * `maxParamLength`), answered in the same shape: pass as the `frameworkErrors` option.
 */
export function answerFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = errorResponse(error);
  void reply.status(status).send(body);
}

const MAX_SCAN_DEPTH = 64;

/** The field of the first string (or key) in `value` holding a NUL character; '' for `value` itself. */
export function nulField(value: unknown, field = '', depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? field : undefined;
  if (typeof value !== 'object' || value === null || depth > MAX_SCAN_DEPTH) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const inner = Array.isArray(value) ? `${field}[${key}]` : field === '' ? key : `${field}.${key}`;
    if (key.includes('\u0000')) return inner;
    const found = nulField(item, inner, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Refuses text holding NUL characters (U+0000) in path and query parameters and JSON bodies with a 400 naming the
 * field: PostgreSQL text cannot store it, so it would otherwise fail deep in a query as a 500.
 */
export function refuseNulCharacters(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const parts = [
      ['path parameter', request.params],
      ['query parameter', request.query],
      ['body', request.body],
    ] as const;
    for (const [where, value] of parts) {
      const field = nulField(value);
      if (field === undefined) continue;
      const named = field === '' ? where : `${where} ${field}`;
      throw badRequest(field === '' ? where : field, `${named} must not contain NUL (\\u0000) characters`);
    }
  });
}
