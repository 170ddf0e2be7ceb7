import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { readVerifiedMedia, UnverifiedMediaError, withVerifiedMediaCopy } from '../../lib/verified-media.js';
import { annotateSnapshot } from '../../media/snapshot.js';
import type { DetectionImageSource } from '../../storage/queries/detections.js';
import { detectionImageSource, detectionThumbnailPath } from '../../storage/queries/detections.js';
import type { ApiContext } from '../context.js';
import { ApiError, notFound } from '../errors.js';
import { errors, idParams } from '../schemas.js';

/** Longest side of a served image: source resolution for any camera, never enlarged. */
const MAX_IMAGE_PX = 8192;
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);

const isMissing = (error: unknown) =>
  typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === 'ENOENT';

/** The thumbnails folder, `<data_dir>/thumbnails`, with its links resolved; undefined while it does not exist. */
async function thumbnailsRoot(dataDir: string): Promise<string | undefined> {
  try {
    return await realpath(path.resolve(dataDir, 'thumbnails'));
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/**
 * The crop of a detection, read from its stored path only when that path, links resolved, lies inside the
 * thumbnails folder (the database and the folder are not trusted: no `..`, no link out of it). Undefined while the
 * crop is not written (or was removed); the final component is opened without following a link.
 */
async function thumbnailBytes(ctx: ApiContext, id: number, stored: string): Promise<Buffer | undefined> {
  const root = await thumbnailsRoot(ctx.config.data_dir);
  if (root === undefined) return undefined;
  let real: string;
  try {
    real = await realpath(path.resolve(stored));
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  if (!real.startsWith(root + path.sep)) {
    throw new ApiError(
      422,
      'THUMBNAIL_OUTSIDE_DIR',
      `the thumbnail of detection ${id} is outside the thumbnails folder`,
    );
  }
  const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW).catch((error: unknown) => {
    if (isMissing(error)) return undefined;
    throw error;
  });
  if (handle === undefined) return undefined;
  try {
    if (!(await handle.stat()).isFile()) return undefined;
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** The API's answer for a media file that is not (any more) what was processed. */
function refusedMedia(error: UnverifiedMediaError, id: number): ApiError {
  const what = `the media file of detection ${id} (${error.relPath})`;
  switch (error.reason) {
    case 'missing':
      return notFound(`${what} is gone`);
    case 'changed':
      return new ApiError(410, 'MEDIA_CHANGED', `${what}: the file changed since it was processed`);
    case 'link':
      return new ApiError(422, 'MEDIA_OUTSIDE_ROOT', `${what} is a symbolic link or lies under one: never followed`);
    case 'outside':
      return new ApiError(422, 'MEDIA_OUTSIDE_ROOT', `${what} is outside the media root`);
  }
}

/**
 * The picture the detector saw: the image itself, or the sampled frame of a clip; served only while the file still
 * holds what was processed (its sha256), never through a link. Also what enrolment from a detection reads.
 */
export async function sourcePicture(ctx: ApiContext, source: DetectionImageSource): Promise<Buffer> {
  const { detection } = source;
  const root = ctx.config.media_root;
  try {
    if (source.mediaType === 'image') {
      return await readVerifiedMedia(root, source.mediaPath, source.mediaSha256, source.mediaSize);
    }
    const frames = await withVerifiedMediaCopy(
      root,
      source.mediaPath,
      source.mediaSha256,
      (file) => ctx.deps.extractFrames(file),
      source.mediaSize,
    );
    const frame = frames[detection.frame_index ?? 0];
    if (frame === undefined) {
      throw notFound(
        `clip ${source.mediaPath} no longer has frame ${detection.frame_index} of detection ${detection.id}`,
      );
    }
    return frame;
  } catch (error) {
    if (error instanceof UnverifiedMediaError) throw refusedMedia(error, detection.id);
    throw error;
  }
}

export function detectionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { db } = ctx.deps;
  const maxPixels = ctx.config.ingest.max_pixels;
  app.get<{ Params: { id: number }; Querystring: { annotated: boolean } }>(
    '/api/detections/:id/image',
    {
      schema: {
        tags: ['detections'],
        summary:
          'The picture of a detection as JPEG: the original, or with its box and label drawn; 410 when the file ' +
          'no longer holds what was processed',
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { annotated: { type: 'boolean', default: false, description: 'Draw the box and label' } },
        },
        response: {
          200: {
            description: 'JPEG image',
            content: { 'image/jpeg': { schema: { type: 'string', format: 'binary' } } },
          },
          ...errors(400, 404, 410, 422),
        },
      },
    },
    async (request, reply) => {
      const source = await detectionImageSource(db, request.params.id);
      if (source === undefined) throw notFound(`no detection with id ${request.params.id}`);
      const picture = await sourcePicture(ctx, source);
      const d = source.detection;
      let jpeg: Buffer;
      if (request.query.annotated) {
        const box = { x: d.bbox_x, y: d.bbox_y, width: d.bbox_width, height: d.bbox_height };
        jpeg = await annotateSnapshot(
          picture,
          [{ label: d.object_type, confidence: d.confidence, box }],
          MAX_IMAGE_PX,
          {
            maxPixels,
          },
        );
      } else {
        const isJpeg = picture.subarray(0, 3).equals(JPEG_MAGIC);
        jpeg = isJpeg ? picture : await annotateSnapshot(picture, [], MAX_IMAGE_PX, { maxPixels });
      }
      return reply.type('image/jpeg').header('cache-control', 'private, max-age=300').send(jpeg);
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/detections/:id/thumbnail',
    {
      schema: {
        tags: ['detections'],
        summary:
          'The JPEG crop of a detection (`detector.thumbnails`); 404 until it is written (when the detector is idle)',
        params: idParams,
        response: {
          200: {
            description: 'JPEG image',
            content: { 'image/jpeg': { schema: { type: 'string', format: 'binary' } } },
          },
          ...errors(400, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const stored = await detectionThumbnailPath(db, id);
      if (stored === undefined) throw notFound(`no detection with id ${id}`);
      const jpeg = stored === null ? undefined : await thumbnailBytes(ctx, id, stored);
      if (jpeg === undefined) {
        // Not yet: the same URL answers once the crop is written, so the 404 must not be cached.
        const message = `detection ${id} has no thumbnail (yet: crops are written when the detector is idle)`;
        return reply
          .status(404)
          .header('cache-control', 'no-store')
          .send({ error: { code: 'NOT_FOUND', message } });
      }
      // A detection's crop never changes (reprocessing makes new detections, with new ids).
      return reply.type('image/jpeg').header('cache-control', 'private, max-age=86400, immutable').send(jpeg);
    },
  );
}
