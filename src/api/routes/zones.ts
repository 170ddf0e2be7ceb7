import type { FastifyInstance, FastifyRequest } from 'fastify';
import { validateZoneShape, ZONE_TYPES, type ZoneShape, type ZoneType } from '../../domain/zones.js';
import { getCamera } from '../../storage/camera.repository.js';
import type { DbOrTx } from '../../storage/database.js';
import {
  deleteZone,
  getZone,
  listZones,
  type StoredZone,
  upsertZoneByName,
  zoneIdFor,
} from '../../storage/zone.repository.js';
import type { ApiContext } from '../context.js';
import { badRequest, conflict, leadingField, notFound } from '../errors.js';
import { zoneJson } from '../present.js';
import { errors, listOf, textIdParams, zoneSchema, zoneShapeSchema } from '../schemas.js';

interface ZoneFields {
  zone_type?: ZoneType;
  shape: unknown;
  color?: string;
  enabled?: boolean;
  priority?: number;
}

interface ZoneBody extends ZoneFields {
  camera_id: string;
  name: string;
  armed?: boolean;
}

const fieldProperties = {
  zone_type: { type: 'string', enum: ZONE_TYPES, default: 'other' },
  shape: zoneShapeSchema,
  color: { type: 'string', pattern: '^#[0-9a-fA-F]{6}$', default: '#3b82f6' },
  enabled: { type: 'boolean', default: true },
  priority: { type: 'integer', minimum: -1000, maximum: 1000, default: 0, description: 'Higher first' },
} as const;

const createSchema = {
  type: 'object',
  required: ['camera_id', 'name', 'shape'],
  additionalProperties: false,
  properties: {
    camera_id: { type: 'string', minLength: 1 },
    name: { type: 'string', minLength: 1, maxLength: 100 },
    armed: { type: 'boolean', default: false, description: 'Arming switch of the new zone' },
    ...fieldProperties,
  },
} as const;

const updateSchema = {
  type: 'object',
  required: ['shape'],
  additionalProperties: false,
  description: 'Camera and name are fixed by the id (delete and create to rename); `PUT /api/zones/:id/armed` arms.',
  properties: fieldProperties,
} as const;

function shapeOf(value: unknown): ZoneShape {
  const checked = validateZoneShape(value, 'shape');
  if (!checked.ok) throw badRequest(leadingField(checked.errors[0] ?? '') ?? 'shape', checked.errors.join('; '));
  return checked.shape;
}

function assertEditable(zone: StoredZone): void {
  if (zone.source === 'config') {
    throw conflict(`zone ${zone.id} comes from the configuration (zones): change it there`);
  }
}

type ZoneRequest = FastifyRequest<{ Params: { id: string } }>;

async function findZone(request: ZoneRequest, db: DbOrTx): Promise<StoredZone> {
  const zone = await getZone(db, request.params.id);
  if (zone === undefined) throw notFound(`no zone with id ${request.params.id}`);
  return zone;
}

function saveZone(tx: DbOrTx, cameraId: string, name: string, body: ZoneFields, armed?: boolean) {
  return upsertZoneByName(tx, {
    cameraId,
    name,
    zoneType: body.zone_type,
    shape: shapeOf(body.shape),
    color: body.color,
    enabled: body.enabled,
    priority: body.priority,
    source: 'api',
    armed,
  });
}

/** Announces a committed zone change: the MQTT bridge republishes the camera's discovery. */
function announce(ctx: ApiContext, zone: StoredZone, action: 'created' | 'updated' | 'deleted'): void {
  ctx.deps.bus.emit('zone.changed', { zoneId: zone.id, cameraId: zone.cameraId, action });
}

async function createZone(ctx: ApiContext, request: FastifyRequest<{ Body: ZoneBody }>): Promise<StoredZone> {
  const body = request.body;
  const zone = await ctx.deps.db.transaction().execute(async (tx) => {
    if ((await getCamera(tx, body.camera_id)) === undefined) {
      throw badRequest('camera_id', `camera_id ${body.camera_id} is not a camera (GET /api/cameras lists them)`);
    }
    const existing = await getZone(tx, zoneIdFor(body.camera_id, body.name));
    if (existing?.cameraId === body.camera_id && existing.name === body.name) {
      throw conflict(`zone "${body.name}" exists already on ${body.camera_id}; PUT /api/zones/${existing.id}`);
    }
    if (existing !== undefined) {
      throw badRequest(
        'name',
        `name "${body.name}" would give id ${existing.id}, taken by zone "${existing.name}" on ${existing.cameraId}; ` +
          'choose a name that differs in more than case or punctuation',
      );
    }
    const created = await saveZone(tx, body.camera_id, body.name, body, body.armed);
    await ctx.audit(request, { action: 'zone.create', resourceType: 'zone', resourceId: created.id }, tx);
    return created;
  });
  announce(ctx, zone, 'created');
  return zone;
}

async function updateZone(ctx: ApiContext, request: ZoneRequest & { body: ZoneFields }): Promise<StoredZone> {
  const zone = await ctx.deps.db.transaction().execute(async (tx) => {
    const existing = await findZone(request, tx);
    assertEditable(existing);
    const updated = await saveZone(tx, existing.cameraId, existing.name, request.body);
    await ctx.audit(request, { action: 'zone.update', resourceType: 'zone', resourceId: updated.id }, tx);
    return updated;
  });
  announce(ctx, zone, 'updated');
  return zone;
}

async function removeZone(ctx: ApiContext, request: ZoneRequest): Promise<void> {
  const removed = await ctx.deps.db.transaction().execute(async (tx) => {
    const existing = await findZone(request, tx);
    assertEditable(existing);
    await deleteZone(tx, existing.id);
    await ctx.audit(request, { action: 'zone.delete', resourceType: 'zone', resourceId: existing.id }, tx);
    return existing;
  });
  announce(ctx, removed, 'deleted');
}

export function zoneRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { db } = ctx.deps;
  const tags = ['zones'];
  app.get<{ Querystring: { camera?: string } }>(
    '/api/zones',
    {
      schema: {
        tags,
        summary: 'Zones by camera, then priority',
        querystring: { type: 'object', additionalProperties: false, properties: { camera: { type: 'string' } } },
        response: { 200: listOf('zones', zoneSchema), ...errors(400) },
      },
    },
    async (request) => ({ zones: (await listZones(db, request.query.camera)).map(zoneJson) }),
  );
  app.post<{ Body: ZoneBody }>(
    '/api/zones',
    {
      schema: {
        tags,
        summary: 'Create a zone',
        body: createSchema,
        response: { 201: zoneSchema, ...errors(400, 409) },
      },
    },
    async (request, reply) => reply.status(201).send(zoneJson(await createZone(ctx, request))),
  );
  app.get<{ Params: { id: string } }>(
    '/api/zones/:id',
    { schema: { tags, summary: 'One zone', params: textIdParams, response: { 200: zoneSchema, ...errors(404) } } },
    async (request) => zoneJson(await findZone(request, db)),
  );
  app.put<{ Params: { id: string }; Body: ZoneFields }>(
    '/api/zones/:id',
    {
      schema: {
        tags,
        summary: 'Replace the shape, type, colour, enabled and priority of a zone',
        params: textIdParams,
        body: updateSchema,
        response: { 200: zoneSchema, ...errors(400, 404, 409) },
      },
    },
    async (request) => zoneJson(await updateZone(ctx, request)),
  );
  app.delete<{ Params: { id: string } }>(
    '/api/zones/:id',
    {
      schema: {
        tags,
        summary: 'Delete a zone',
        params: textIdParams,
        response: { 204: { type: 'null' }, ...errors(404, 409) },
      },
    },
    async (request, reply) => {
      await removeZone(ctx, request);
      return reply.status(204).send();
    },
  );
}
