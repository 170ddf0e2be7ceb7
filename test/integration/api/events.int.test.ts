import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../../src/storage/event.repository.js';
import { ENGINES, engineUnavailable } from '../../support/stores.js';
import { type ApiHarness, call, createHarness, type ErrorJson, seedEvent } from './harness.js';

interface EventJson {
  id: number;
  camera_id: string;
  started_at: string;
  risk_level: string;
  summary: string;
  reviewed: boolean;
  notes: string | null;
}
interface PageJson {
  events: EventJson[];
  next_cursor: string | null;
}

const T0 = Date.parse('2026-03-01T10:00:00Z');
const minute = (n: number) => new Date(T0 + n * 60_000);

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} events API tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`events API on ${engine}`, () => {
    let h: ApiHarness;
    const seeded: SecurityEvent[] = [];
    /** Newest first, as the API lists them: started_at desc, then id desc. */
    const expectedOrder = () =>
      [...seeded]
        .filter((e) => e.deletedAt === null)
        .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || b.id - a.id)
        .map((e) => e.id);

    beforeAll(async () => {
      h = await createHarness(engine);
      for (let i = 0; i < 21; i++) {
        seeded.push(
          await seedEvent(h.db, {
            cameraId: i % 2 === 0 ? 'front_door' : 'garage',
            summary: i === 7 ? 'A courier left a parcel by the door' : `Person walking past the house (${i})`,
            riskScore: i % 5 === 0 ? 40 : 10,
            riskLevel: i % 5 === 0 ? 'medium' : 'low',
            // Three events share one start time: the cursor must break the tie by id.
            startedAt: minute(i >= 10 && i <= 12 ? 10 : i),
          }),
        );
      }
    });
    afterAll(async () => h?.close());

    it('lists the cameras and shows one, 404 for an unknown one', async () => {
      const { res, json } = await call<{ cameras: { id: string }[] }>(h.app, { url: '/api/cameras' });
      expect(res.statusCode).toBe(200);
      expect(json.cameras.map((c) => c.id)).toStrictEqual(['front_door', 'garage']);
      const one = await call<{ id: string; name: string; folder_path: string }>(h.app, { url: '/api/cameras/garage' });
      expect([one.json.id, one.json.name, one.json.folder_path]).toStrictEqual(['garage', 'garage', 'garage']);
      const missing = await call<ErrorJson>(h.app, { url: '/api/cameras/attic' });
      expect(missing.res.statusCode).toBe(404);
      expect(missing.json).toStrictEqual({ error: { code: 'NOT_FOUND', message: 'no camera with id attic' } });
    });

    it('walks every page with the cursor, in order, without duplicates', async () => {
      const ids: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = `/api/events?limit=4${cursor === null ? '' : `&cursor=${cursor}`}`;
        const { res, json } = await call<PageJson>(h.app, { url });
        expect(res.statusCode).toBe(200);
        expect(json.events.length).toBeLessThanOrEqual(4);
        ids.push(...json.events.map((e) => e.id));
        cursor = json.next_cursor;
        pages += 1;
      } while (cursor !== null);
      expect(pages).toBe(6);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toStrictEqual(expectedOrder());
    });

    it('filters by camera, level, time range and reviewed', async () => {
      const garage = await call<PageJson>(h.app, { url: '/api/events?camera=garage&limit=500' });
      expect(garage.json.events.map((e) => e.id)).toStrictEqual(
        expectedOrder().filter((id) => seeded.find((e) => e.id === id)?.cameraId === 'garage'),
      );
      const medium = await call<PageJson>(h.app, { url: '/api/events?level=medium' });
      expect(medium.json.events.map((e) => e.summary).sort()).toStrictEqual(
        [0, 5, 10, 15, 20].map((i) => `Person walking past the house (${i})`).sort(),
      );
      const from = encodeURIComponent(minute(18).toISOString());
      const to = encodeURIComponent(minute(20).toISOString());
      const range = await call<PageJson>(h.app, { url: `/api/events?from=${from}&to=${to}` });
      expect(range.json.events.map((e) => e.started_at)).toStrictEqual([
        minute(19).toISOString(),
        minute(18).toISOString(),
      ]);
      const unreviewed = await call<PageJson>(h.app, { url: '/api/events?reviewed=false&limit=500' });
      expect(unreviewed.json.events.length).toBe(21);
    });

    it('searches the full text (stemmed), pages the hits, and never returns a deleted event', async () => {
      const courier = seeded[7]!;
      const found = await call<PageJson>(h.app, { url: '/api/events?q=parcels' });
      expect(found.json).toStrictEqual({ events: [expect.objectContaining({ id: courier.id })], next_cursor: null });

      const ids: number[] = [];
      let cursor: string | null = null;
      do {
        const url: string = `/api/events?q=walking&limit=8${cursor === null ? '' : `&cursor=${cursor}`}`;
        const { json } = await call<PageJson>(h.app, { url });
        ids.push(...json.events.map((e) => e.id));
        cursor = json.next_cursor;
      } while (cursor !== null);
      expect(ids.length).toBe(20);
      expect(new Set(ids).size).toBe(20);
      expect(ids).not.toContain(courier.id);

      const deleted = await h.app.inject({ method: 'DELETE', url: `/api/events/${courier.id}` });
      expect(deleted.statusCode).toBe(204);
      courier.deletedAt = new Date();
      expect((await call<PageJson>(h.app, { url: '/api/events?q=courier' })).json).toStrictEqual({
        events: [],
        next_cursor: null,
      });
      expect((await h.app.inject({ url: `/api/events/${courier.id}` })).statusCode).toBe(404);
      const all = await call<PageJson>(h.app, { url: '/api/events?limit=500' });
      expect(all.json.events.map((e) => e.id)).toStrictEqual(expectedOrder());
      expect((await h.app.inject({ method: 'DELETE', url: `/api/events/${courier.id}` })).statusCode).toBe(404);
    });

    it('shows an event with its detections', async () => {
      const event = seeded[3]!;
      const { res, json } = await call<EventJson & { detections: { object_type: string; bbox: unknown }[] }>(h.app, {
        url: `/api/events/${event.id}`,
      });
      expect(res.statusCode).toBe(200);
      expect(json).toMatchObject({ id: event.id, camera_id: 'garage', feedback: null, reviewed: false });
      expect(json.detections).toStrictEqual([
        expect.objectContaining({
          object_type: 'person',
          confidence: 0.9,
          bbox: { x: 400, y: 300, width: 200, height: 400 },
        }),
      ]);
    });

    it('marks reviewed and sets notes, audited as api', async () => {
      const event = seeded[4]!;
      const { res, json } = await call<EventJson>(h.app, {
        method: 'PATCH',
        url: `/api/events/${event.id}`,
        payload: { reviewed: true, notes: 'the neighbour' },
      });
      expect(res.statusCode).toBe(200);
      expect([json.reviewed, json.notes]).toStrictEqual([true, 'the neighbour']);
      const reviewed = await call<PageJson>(h.app, { url: '/api/events?reviewed=true' });
      expect(reviewed.json.events.map((e) => e.id)).toStrictEqual([event.id]);
      const audit = await call<{ entries: { action: string; actor: string; resource_id: string }[] }>(h.app, {
        url: '/api/audit?action=event.update',
      });
      expect(audit.json.entries.map((e) => [e.action, e.actor, e.resource_id])).toStrictEqual([
        ['event.update', 'api', String(event.id)],
      ]);
    });

    it('answers 400 naming the field for invalid input', async () => {
      const id = seeded[2]!.id;
      const cases: [string, string, unknown, string][] = [
        ['PATCH', `/api/events/${id}`, { reviewed: 'maybe' }, 'reviewed'],
        ['PATCH', `/api/events/${id}`, { colour: 'red' }, 'colour'],
        ['PATCH', `/api/events/${id}`, {}, 'body'],
        ['GET', '/api/events?level=severe', undefined, 'level'],
        ['GET', '/api/events?limit=0', undefined, 'limit'],
        ['GET', '/api/events?cursor=bogus', undefined, 'cursor'],
        ['GET', '/api/events?from=yesterday', undefined, 'from'],
        ['GET', '/api/events/abc', undefined, 'id'],
        ['POST', `/api/events/${id}/feedback`, { feedback_type: 'meh' }, 'feedback_type'],
        ['POST', `/api/events/${id}/feedback`, { notes: 'x' }, 'feedback_type'],
      ];
      for (const [method, url, payload, field] of cases) {
        const { res, json } = await call<ErrorJson>(h.app, {
          method: method as 'GET',
          url,
          ...(payload === undefined ? {} : { payload: payload as object }),
        });
        expect({ url, payload, status: res.statusCode, code: json.error.code, field: json.error.field }).toStrictEqual({
          url,
          payload,
          status: 400,
          code: 'INVALID_INPUT',
          field,
        });
      }
      const badJson = await call<ErrorJson>(h.app, {
        method: 'PATCH',
        url: `/api/events/${id}`,
        payload: '{"reviewed": tru',
        headers: { 'content-type': 'application/json' },
      });
      expect([badJson.res.statusCode, badJson.json.error.code]).toStrictEqual([400, 'INVALID_INPUT']);
      const enumError = await call<ErrorJson>(h.app, { url: '/api/events?level=severe' });
      expect(enumError.json.error.message).toBe('query parameter level must be one of low, medium, high, critical');
    });

    it('answers 404 for events that do not exist', async () => {
      for (const [method, payload] of [['GET'], ['PATCH', { reviewed: true }], ['DELETE']] as const) {
        const { res, json } = await call<ErrorJson>(h.app, { method, url: '/api/events/987654', payload });
        expect([res.statusCode, json]).toStrictEqual([
          404,
          { error: { code: 'NOT_FOUND', message: 'no event with id 987654' } },
        ]);
      }
      const feedback = await h.app.inject({
        method: 'POST',
        url: `/api/events/${seeded[7]!.id}/feedback`,
        payload: { feedback_type: 'accurate' },
      });
      expect(feedback.statusCode).toBe(404);
    });

    it('records feedback, replaces it, and sums it up per level', async () => {
      const event = seeded[5]!;
      const first = await call<{ feedback_type: string }>(h.app, {
        method: 'POST',
        url: `/api/events/${event.id}/feedback`,
        payload: { feedback_type: 'accurate' },
      });
      expect([first.res.statusCode, first.json.feedback_type]).toStrictEqual([200, 'accurate']);
      const second = await call<Record<string, unknown>>(h.app, {
        method: 'POST',
        url: `/api/events/${event.id}/feedback`,
        payload: { feedback_type: 'false_positive', notes: 'a cat', expected_severity: 'low' },
      });
      expect(second.json).toMatchObject({
        event_id: event.id,
        feedback_type: 'false_positive',
        notes: 'a cat',
        expected_severity: 'low',
      });
      const detail = await call<{ feedback: { feedback_type: string } }>(h.app, { url: `/api/events/${event.id}` });
      expect(detail.json.feedback.feedback_type).toBe('false_positive');
      const summary = await call<{ levels: Record<string, unknown>[] }>(h.app, { url: '/api/feedback/summary' });
      expect(summary.json.levels.map((l) => [l.level, l.events, l.with_feedback, l.false_positives])).toStrictEqual([
        ['low', 15, 0, 0],
        ['medium', 5, 1, 1],
        ['high', 0, 0, 0],
        ['critical', 0, 0, 0],
      ]);
    });
  });
}
