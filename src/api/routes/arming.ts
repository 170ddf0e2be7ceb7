import type { FastifyInstance } from 'fastify';
import { createCommandDispatcher } from '../../commands/dispatcher.js';
import { createCommandServices } from '../../commands/services.js';
import { type HouseMode, isZoneArmed } from '../../domain/arming.js';
import { AppError } from '../../lib/errors.js';
import { getHouseState } from '../../storage/arming.repository.js';
import { getZone, listZones } from '../../storage/zone.repository.js';
import type { ApiContext } from '../context.js';
import { iso, zoneJson } from '../present.js';
import { errors, houseModeSchema, textIdParams, zoneSchema } from '../schemas.js';

const armingSchema = {
  type: 'object',
  properties: {
    mode: houseModeSchema,
    changed_at: { type: ['string', 'null'], format: 'date-time' },
    changed_by: { type: ['string', 'null'] },
    zones: {
      type: 'array',
      items: {
        type: 'object',
        description: '`armed`: the zone switch; `armed_now`: switch on and the house armed',
        properties: {
          id: { type: 'string' },
          camera_id: { type: 'string' },
          name: { type: 'string' },
          armed: { type: 'boolean' },
          armed_now: { type: 'boolean' },
        },
      },
    },
  },
} as const;

export function armingRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { db, log, clock } = ctx.deps;
  const commands = createCommandDispatcher({ services: createCommandServices(ctx.deps), log, clock });
  const tags = ['arming'];
  const state = async () => {
    const [house, zones] = await Promise.all([getHouseState(db), listZones(db)]);
    return {
      mode: house.mode,
      changed_at: iso(house.changedAt),
      changed_by: house.changedBy,
      zones: zones.map((z) => ({
        id: z.id,
        camera_id: z.cameraId,
        name: z.name,
        armed: z.armed,
        armed_now: isZoneArmed(house.mode, z.armed),
      })),
    };
  };

  app.get(
    '/api/arming',
    { schema: { tags, summary: 'House mode and every zone switch', response: { 200: armingSchema, ...errors() } } },
    state,
  );

  app.put<{ Body: { mode: HouseMode } }>(
    '/api/arming',
    {
      schema: {
        tags,
        summary: 'Set the house mode',
        body: {
          type: 'object',
          required: ['mode'],
          additionalProperties: false,
          properties: { mode: houseModeSchema },
        },
        response: { 200: armingSchema, ...errors(400) },
      },
    },
    async (request) => {
      // The table's alarm.set; the API key is this channel's login, so no alarm code is asked.
      await commands.run('alarm.set', { mode: request.body.mode }, { actor: ctx.actor(request) });
      return state();
    },
  );

  app.put<{ Params: { id: string }; Body: { armed: boolean } }>(
    '/api/zones/:id/armed',
    {
      schema: {
        tags,
        summary: "Flip a zone's arming switch",
        params: textIdParams,
        body: {
          type: 'object',
          required: ['armed'],
          additionalProperties: false,
          properties: { armed: { type: 'boolean' } },
        },
        response: { 200: zoneSchema, ...errors(400, 404) },
      },
    },
    async (request) => {
      const { id } = request.params;
      await commands.run('zones.armed.set', { zone_id: id, on: request.body.armed }, { actor: ctx.actor(request) });
      const zone = await getZone(db, id);
      if (zone === undefined) throw new AppError('NOT_FOUND', `zone ${id} was deleted`, { permanent: true });
      return zoneJson(zone);
    },
  );
}
