import { Ajv } from 'ajv';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/storage/database.js';
import { Prng } from '../../support/fuzz.js';
import { fuzzRequests, type Operation, operationsOf } from '../../support/http-fuzz.js';
import { type ApiHarness, createHarness, seedEvent } from '../api/harness.js';

/**
 * Every route of the OpenAPI document (`/api/openapi.json`) gets seeded random values for each path and query
 * parameter and, where it takes one, hostile bodies (wrong types, not objects, broken JSON, wrong content types,
 * over the 1 MiB limit). HSI must never answer 5xx, every 4xx must be `{error: {code, message, field?}}`, and the
 * data must be unchanged afterwards. Requests that would be valid changes are not sent (an existing id in a path,
 * a body that satisfies the schema of a route without ids).
 */

const SEED = Number(process.env.HSI_FUZZ_SEED ?? 20_261_124);
const PER_PARAMETER = 30;
const PER_BODY = 40;
/** Tables whose rows a request could change (audit and log tables grow by design). */
const TABLES = [
  'cameras',
  'media_files',
  'detections',
  'events',
  'event_detections',
  'event_feedback',
  'camera_zones',
  'house_state',
  'alert_rules',
  'alerts',
] as const;

async function snapshot(db: Db): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of TABLES) {
    out[table] = (
      await sql<{ row: unknown }>`SELECT to_jsonb(t) AS row FROM ${sql.table(table)} t ORDER BY 1`.execute(db)
    ).rows;
  }
  return out;
}

/** Why a response breaks the contract, or undefined when it keeps it. */
function contractProblem(res: LightMyRequestResponse): string | undefined {
  if (res.statusCode >= 500) return `status ${res.statusCode}`;
  if (res.statusCode < 400) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    return `status ${res.statusCode} with a body that is not JSON`;
  }
  const error = (body as { error?: Record<string, unknown> }).error;
  const shaped =
    typeof body === 'object' &&
    body !== null &&
    Object.keys(body).join() === 'error' &&
    typeof error === 'object' &&
    typeof error.code === 'string' &&
    error.code !== '' &&
    typeof error.message === 'string' &&
    (error.field === undefined || typeof error.field === 'string') &&
    Object.keys(error).every((k) => ['code', 'message', 'field'].includes(k));
  return shaped ? undefined : `status ${res.statusCode} without the {error: {code, message}} shape`;
}

describe(`HTTP API fuzzing (seed ${SEED})`, () => {
  let h: ApiHarness;
  let operations: Operation[];
  const existingIds = new Set<string>();

  beforeAll(async () => {
    h = await createHarness('pglite');
    const at = Date.parse('2026-03-02T12:00:00Z');
    const events = [];
    for (let i = 0; i < 3; i++) {
      events.push(
        await seedEvent(h.db, {
          summary: `Person at the door (${i})`,
          riskScore: 70,
          riskLevel: 'high',
          startedAt: new Date(at + i * 60_000),
        }),
      );
    }
    const zone = {
      camera_id: 'front_door',
      name: 'Porch',
      shape: { kind: 'rectangle', x: 0.1, y: 0.5, width: 0.3, height: 0.4 },
    };
    const rule = { name: 'Every event', severity: 'high', risk_threshold: 0, dedup_key_template: '{event_id}' };
    for (const [url, payload] of [
      ['/api/zones', zone],
      ['/api/alert-rules', rule],
    ] as const) {
      const res = await h.app.inject({ method: 'POST', url, payload });
      if (res.statusCode !== 201) throw new Error(`seeding ${url} failed: ${res.statusCode} ${res.body}`);
    }
    const facts = { confidenceByType: { person: 0.9 }, zones: [], houseMode: 'disarmed' as const, timezone: 'UTC' };
    for (const event of events) await h.alerts.evaluate(event, facts);
    await h.app.inject({ method: 'PUT', url: '/api/arming', payload: { mode: 'armed_away' } });
    for (const table of ['events', 'alerts', 'alert_rules', 'camera_zones', 'cameras', 'detections'] as const) {
      for (const r of (await sql<{ id: unknown }>`SELECT id FROM ${sql.table(table)}`.execute(h.db)).rows) {
        existingIds.add(String(r.id));
      }
    }
    operations = operationsOf(JSON.parse((await h.app.inject({ url: '/api/openapi.json' })).body));
  });
  afterAll(async () => h?.close());

  it('never answers 5xx, always the error shape for 4xx, and changes nothing', { timeout: 110_000 }, async () => {
    const rng = new Prng(SEED);
    const ajv = new Ajv({ strict: false, validateFormats: false, allowUnionTypes: true });
    const before = await snapshot(h.db);
    const problems: string[] = [];
    let sent = 0;
    let skipped = 0;
    expect(operations.length).toBeGreaterThan(30);
    for (const op of operations) {
      const validate = op.body === undefined ? undefined : ajv.compile(op.body);
      const plan = {
        perParameter: PER_PARAMETER,
        perBody: PER_BODY,
        existingIds,
        isValidBody: (json: unknown) => validate?.(json) === true,
      };
      for (const request of fuzzRequests(op, rng, plan)) {
        if (request === 'skipped') {
          skipped += 1;
          continue;
        }
        const { method, url, body } = request;
        const headers = body?.contentType === undefined ? {} : { 'content-type': body.contentType };
        const res = await h.app.inject({
          method: method as 'GET',
          url,
          headers,
          ...(body ? { payload: body.payload } : {}),
        });
        sent += 1;
        const problem = contractProblem(res);
        if (problem !== undefined)
          problems.push(`${method} ${url.slice(0, 160)} → ${problem}: ${res.body.slice(0, 200)}`);
      }
    }
    console.info(
      `HTTP fuzz (seed ${SEED}): ${operations.length} operations, ${sent} requests, ${skipped} valid changes not sent`,
    );

    expect(problems).toStrictEqual([]);
    expect(await snapshot(h.db)).toStrictEqual(before);
  });
});
