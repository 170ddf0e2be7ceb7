import type { FastifyInstance } from 'fastify';
import { getCamera, listCameras } from '../../storage/camera.repository.js';
import type { ApiContext } from '../context.js';
import { notFound } from '../errors.js';
import { cameraJson } from '../present.js';
import { cameraSchema, errors, listOf, textIdParams } from '../schemas.js';

export function cameraRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { db } = ctx.deps;
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
}
