import type { FastifyInstance } from 'fastify';
import { getCamera, listCameras, renameCamera, softDeleteCamera } from '../../storage/camera.repository.js';
import type { ApiContext } from '../context.js';
import { notFound } from '../errors.js';
import { cameraJson } from '../present.js';
import { cameraSchema, errors, listOf, textIdParams } from '../schemas.js';

const renameSchema = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: { type: 'string', minLength: 1, maxLength: 100, pattern: '\\S' } },
} as const;

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

  app.patch<{ Params: { id: string }; Body: { name: string } }>(
    '/api/cameras/:id',
    {
      schema: {
        tags: ['cameras'],
        summary: 'Rename a camera (its Home Assistant device name; the id, folder and entity ids stay)',
        params: textIdParams,
        body: renameSchema,
        response: { 200: cameraSchema, ...errors(400, 404) },
      },
    },
    async (request) => {
      const name = request.body.name.trim();
      const camera = await db.transaction().execute(async (tx) => {
        const renamed = await renameCamera(tx, request.params.id, name);
        if (renamed === undefined) throw notFound(`no camera with id ${request.params.id}`);
        await ctx.audit(
          request,
          { action: 'camera.rename', resourceType: 'camera', resourceId: renamed.id, details: { name } },
          tx,
        );
        return renamed;
      });
      bus.emit('camera.updated', { cameraId: camera.id, name: camera.name, action: 'renamed' });
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
