import { type Prng, randomJson, randomNumber, randomString } from './fuzz.js';

/**
 * Seeded hostile HTTP inputs built from an OpenAPI 3.1 document: values for every path and query parameter, bodies
 * for every operation that takes one (the schema's own field names with wrong values, bodies that are not objects,
 * broken JSON, wrong content types, oversized). Pure: the test sends them.
 */

export interface OpenApiParameter {
  in: 'path' | 'query' | 'header' | 'cookie';
  name: string;
  schema?: Record<string, unknown>;
}

export interface Operation {
  method: string;
  /** OpenAPI form: `/api/events/{id}`. */
  path: string;
  parameters: OpenApiParameter[];
  /** The JSON body schema, when the operation takes a body. */
  body?: Record<string, unknown>;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, { parameters?: OpenApiParameter[]; requestBody?: unknown }>>;
}

/** Every operation of the document. */
export function operationsOf(document: unknown): Operation[] {
  const doc = document as OpenApiDocument;
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const content = (op.requestBody as { content?: Record<string, { schema?: Record<string, unknown> }> })?.content;
      const body = content?.['application/json']?.schema;
      return { method: method.toUpperCase(), path, parameters: op.parameters ?? [], ...(body ? { body } : {}) };
    }),
  );
}

/** A parameter value as it travels in a URL (before encoding): wrong types, edges, unicode, injections, long. */
export function parameterValue(rng: Prng): string {
  switch (rng.int(0, 8)) {
    case 0:
      return String(randomNumber(rng));
    case 1:
      return rng.pick(['', ' ', 'true', 'false', 'null', 'undefined', '[]', '{}', '0x10', '1.5', '-1', '1e3', '٣']);
    case 2:
      return randomString(rng, 30);
    case 3:
      return 'a'.repeat(rng.int(100, 20_000));
    case 4:
      return String(rng.int(1, 9) * 10 ** rng.int(15, 40));
    case 5:
      return rng.pick(['2026-13-45T25:61:00Z', '0000-00-00', '9999-12-31T23:59:59.999999999Z', 'yesterday', '1_1']);
    case 6:
      return JSON.stringify(randomJson(rng, 2));
    case 7:
      return rng.pick(["' OR 1=1 --", '1; DROP TABLE events', '../../etc/passwd', '%00', '%', '%zz', '?', '#', '&']);
    default:
      return randomString(rng, 4);
  }
}

/** Percent-encodes the UTF-8 bytes of `value` (a lone surrogate becomes U+FFFD instead of throwing). */
export function encode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The path with `{name}` placeholders filled from `values` (URL-encoded). */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_m, name: string) => encode(values[name] ?? '1'));
}

export function queryString(entries: readonly [string, string][]): string {
  if (entries.length === 0) return '';
  return `?${entries.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')}`;
}

export interface FuzzBody {
  payload: string | Buffer;
  contentType: string | undefined;
  /** The parsed JSON the payload carries, when it is JSON sent as JSON (to check it against the schema). */
  json?: unknown;
}

/** A hostile body for an operation whose body schema is `schema` (property names are reused). */
export function fuzzBody(rng: Prng, schema: Record<string, unknown> | undefined): FuzzBody {
  const properties = Object.keys((schema?.properties as Record<string, unknown> | undefined) ?? {});
  const json = (value: unknown): FuzzBody => ({
    payload: JSON.stringify(value),
    contentType: 'application/json',
    json: value,
  });
  switch (rng.int(0, 9)) {
    case 0:
    case 1: {
      const out: Record<string, unknown> = {};
      for (const p of properties) if (rng.chance(0.6)) out[p] = randomJson(rng, 2);
      if (rng.chance(0.3)) out[randomString(rng, 10)] = randomJson(rng, 1);
      return json(out);
    }
    case 2:
      return json(randomJson(rng, 3));
    case 3:
      return {
        payload: rng.pick(['{', '{"a":', '[1,', '{"a":1}}', 'nul', '\u0000', "{'a':1}", '{"a":1,}']),
        contentType: 'application/json',
      };
    case 4:
      return { payload: randomString(rng, 100), contentType: rng.pick(['text/plain', 'application/xml', 'text/html']) };
    case 5:
      return {
        payload: 'a=1&b=2',
        contentType: rng.pick(['application/x-www-form-urlencoded', 'multipart/form-data']),
      };
    case 6:
      return {
        payload: JSON.stringify({ [rng.pick(properties.length > 0 ? properties : ['x'])]: 1 }),
        contentType: undefined,
      };
    case 7:
      return {
        payload: rng.bytes(rng.int(1, 256)),
        contentType: rng.pick(['application/json', 'application/octet-stream']),
      };
    case 8:
      return { payload: `{"x":"${'a'.repeat(1024 * 1024 + 16)}"}`, contentType: 'application/json' };
    default:
      return {
        payload: JSON.stringify({}),
        contentType: rng.pick([
          'application/json; charset=utf-16',
          'application/jsonx',
          'json',
          ';;',
          'application/json; boundary=',
        ]),
      };
  }
}

export interface FuzzRequest {
  method: string;
  url: string;
  body?: FuzzBody;
}

export interface FuzzPlan {
  perParameter: number;
  perBody: number;
  /** Ids of existing rows: never put in the path of a request that could change data. */
  existingIds: ReadonlySet<string>;
  /** Whether a JSON body satisfies the operation's schema. */
  isValidBody: (json: unknown) => boolean;
}

/** Paths that do not decode: bad percent escapes, invalid UTF-8, NUL. */
const RAW_PATH_VALUES = ['%zz', '%C3%28', '%00', '%E0%A4%A', '..%2F..%2Fetc%2Fpasswd', '%F0%9F%98%80'];
const NEUTRAL_ID = '999999';

/**
 * The fuzz requests for one operation: each path and query parameter with `perParameter` random values (plus raw
 * undecodable ones), `perBody` hostile bodies, a NUL character in each body field, junk query parameters. Requests
 * that would be valid changes are yielded as `'skipped'`: an existing id in the path of a non-GET, or a body that
 * satisfies the schema of a non-GET without path parameters. Other path parameters hold an id that does not exist.
 */
export function* fuzzRequests(op: Operation, rng: Prng, plan: FuzzPlan): Generator<FuzzRequest | 'skipped'> {
  const pathParams = op.parameters.filter((p) => p.in === 'path').map((p) => p.name);
  const neutral = Object.fromEntries(pathParams.map((name) => [name, NEUTRAL_ID]));
  const base = fillPath(op.path, neutral);
  const mutating = op.method !== 'GET';
  const request = (url: string, body = invalidBody(op, rng, plan)): FuzzRequest =>
    body === undefined ? { method: op.method, url } : { method: op.method, url, body };
  for (const param of op.parameters.filter((p) => p.in === 'path' || p.in === 'query')) {
    for (let i = 0; i < plan.perParameter; i++) {
      const value = parameterValue(rng);
      if (param.in === 'path' && mutating && plan.existingIds.has(value.trim())) yield 'skipped';
      else if (param.in === 'path') yield request(fillPath(op.path, { ...neutral, [param.name]: value }));
      else yield request(`${base}${queryString([[param.name, value]])}`);
    }
    if (param.in === 'path') {
      for (const raw of RAW_PATH_VALUES) yield request(fillPath(op.path, neutral).replace(NEUTRAL_ID, raw));
    } else {
      yield request(`${base}?${param.name}=%E0%A4%A&${param.name}=1`);
    }
  }
  if (op.body !== undefined) {
    for (let i = 0; i < plan.perBody; i++) {
      const body = fuzzBody(rng, op.body);
      const validChange = mutating && pathParams.length === 0 && body.json !== undefined && plan.isValidBody(body.json);
      yield validChange ? 'skipped' : request(base, body);
    }
    // A NUL character in each body field (PostgreSQL text cannot hold one), even where the rest would be valid.
    for (const property of Object.keys((op.body.properties as object | undefined) ?? {})) {
      yield request(base, {
        payload: JSON.stringify({ [property]: 'nul\u0000inside' }),
        contentType: 'application/json',
      });
    }
  }
  for (let i = 0; i < 3; i++) yield request(`${base}${queryString([[parameterValue(rng), parameterValue(rng)]])}`);
}

/** A hostile body that does not satisfy the schema (for requests that fuzz something else), or none. */
function invalidBody(op: Operation, rng: Prng, plan: FuzzPlan): FuzzBody | undefined {
  if (op.body === undefined) return undefined;
  for (let i = 0; i < 20; i++) {
    const body = fuzzBody(rng, op.body);
    if (body.json === undefined || !plan.isValidBody(body.json)) return body;
  }
  return { payload: '{', contentType: 'application/json' };
}
