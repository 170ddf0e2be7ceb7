import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  getCamera,
  listCameras,
  renameCamera,
  setCameraArmedWhenAway,
  softDeleteCamera,
} from '../../storage/camera.repository.js';
import type { DbOrTx } from '../../storage/database.js';
import type { CameraRow } from '../../storage/tables/camera.table.js';
import type { ApiContext } from '../context.js';
import { notFound } from '../errors.js';
import { cameraJson } from '../present.js';
import { cameraSchema, errors, listOf, textIdParams } from '../schemas.js';

interface CameraPatch {
  name?: string;
  armed_when_away?: boolean;
}

const patchSchema = {
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100, pattern: '\\S', description: 'Display name' },
    armed_when_away: {
      type: 'boolean',
      description: 'With the house armed away, arm the whole view of this camera while it has no zones',
    },
  },
} as const;

type PatchRequest = FastifyRequest<{ Params: { id: string }; Body: CameraPatch }>;

export function cameraRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { db, bus, clock } = ctx.deps;
  app.get(
    '/api/cameras',
    {
      schema: {
        tags: ['cameras'],
        summary: 'Cameras (deleted ones excluded), by id',
        response: { 200: listOf('cameras', cameraSchema), ...errors() },
      },
    },
    async () => ({ cameras: (await listCameras(db)).map(cameraJson) }),
  );

  app.get<{ Params: { id: string } }>(
    '/api/cameras/:id',
    {
      schema: {
        tags: ['cameras'],
        summary: 'One camera',
        params: textIdParams,
        response: { 200: cameraSchema, ...errors(404) },
      },
    },
    async (request) => {
      const camera = await getCamera(db, request.params.id);
      if (camera === undefined) throw notFound(`no camera with id ${request.params.id}`);
      return cameraJson(camera);
    },
  );

  /** Applies the patch with an audit row per change, in `tx`; the camera afterwards. */
  async function patchCamera(tx: DbOrTx, request: PatchRequest): Promise<CameraRow> {
    const { id } = request.params;
    const { name, armed_when_away: armedWhenAway } = request.body;
    let camera: CameraRow | undefined;
    if (name !== undefined) {
      camera = await renameCamera(tx, id, name.trim());
      if (camera === undefined) throw notFound(`no camera with id ${id}`);
      const details = { name: camera.name };
      await ctx.audit(request, { action: 'camera.rename', resourceType: 'camera', resourceId: camera.id, details }, tx);
    }
    if (armedWhenAway !== undefined) {
      const change = await setCameraArmedWhenAway(tx, id, armedWhenAway);
      if (change === undefined) throw notFound(`no camera with id ${id}`);
      camera = change.after;
      const details = { armed_when_away: armedWhenAway, previous: change.before.armed_when_away };
      await ctx.audit(
        request,
        { action: 'camera.armed_when_away', resourceType: 'camera', resourceId: camera.id, details },
        tx,
      );
    }
    return camera as CameraRow; // minProperties: 1, so one of the two ran
  }

  app.patch<{ Params: { id: string }; Body: CameraPatch }>(
    '/api/cameras/:id',
    {
      schema: {
        tags: ['cameras'],
        summary:
          'Rename a camera (its Home Assistant device name; the id, folder and entity ids stay) and/or set whether ' +
          'the house armed away arms its whole view while it has no zones (`armed_when_away`)',
        params: textIdParams,
        body: patchSchema,
        response: { 200: cameraSchema, ...errors(400, 404) },
      },
    },
    async (request) => {
      const camera = await db.transaction().execute((tx) => patchCamera(tx, request));
      if (request.body.name !== undefined) {
        bus.emit('camera.updated', { cameraId: camera.id, name: camera.name, action: 'renamed' });
      }
      return cameraJson(camera);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/cameras/:id',
    {
      schema: {
        tags: ['cameras'],
        summary: 'Delete a camera (soft: its events stay; a new upload to its folder brings it back)',
        params: textIdParams,
        response: { 204: { type: 'null' }, ...errors(404) },
      },
    },
    async (request, reply) => {
      const camera = await db.transaction().execute(async (tx) => {
        const existing = await getCamera(tx, request.params.id);
        if (existing === undefined || !(await softDeleteCamera(tx, existing.id, new Date(clock.now())))) {
          throw notFound(`no camera with id ${request.params.id}`);
        }
        await ctx.audit(request, { action: 'camera.delete', resourceType: 'camera', resourceId: existing.id }, tx);
        return existing;
      });
      bus.emit('camera.updated', { cameraId: camera.id, name: camera.name, action: 'deleted' });
      return reply.status(204).send();
    },
  );
}
