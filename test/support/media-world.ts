import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Db } from '../../src/storage/database.js';
import type { MediaStatus } from '../../src/storage/tables/media-file.table.js';

/** Every file below `dir`, relative with `/`, sorted. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

export interface MediaOptions {
  status?: MediaStatus;
  /** Write the file (default true). */
  onDisk?: boolean;
  /** Camera folder under the media root (default 'Drive', camera id its lower case). */
  folder?: string;
}

/**
 * Media files with their files on disk, detections with thumbnail files, events and alerts, written straight into
 * the database at explicit times: for the operations tests (retention, reprocess).
 */
export class MediaWorld {
  constructor(
    readonly db: Db,
    readonly mediaRoot: string,
    readonly thumbs: string,
  ) {}

  async camera(folder: string): Promise<void> {
    await this.db
      .insertInto('cameras')
      .values({ id: folder.toLowerCase(), name: folder, folder_path: folder, last_seen_at: null, deleted_at: null })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  /** A file `<folder>/<name>` (mtime a second before `created`) and its media_files row stored at `created`. */
  async media(name: string, created: Date, options: MediaOptions = {}): Promise<number> {
    const folder = options.folder ?? 'Drive';
    await this.camera(folder);
    const rel = `${folder}/${name}`;
    const captured = new Date(created.getTime() - 1000);
    const content = `content of ${rel}`;
    if (options.onDisk !== false) this.write(rel, content, captured);
    const row = await this.db
      .insertInto('media_files')
      .values({
        camera_id: folder.toLowerCase(),
        path: rel,
        sha256: rel
          .replace(/[^a-z0-9]/gi, '')
          .padEnd(64, '0')
          .slice(0, 64),
        size: content.length,
        media_type: 'image',
        width: 100,
        height: 100,
        captured_at: captured,
        status: options.status ?? 'done',
        error_code: null,
        error: null,
        processed_at: created,
        created_at: created,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  write(rel: string, content: string, mtime: Date): void {
    const file = path.join(this.mediaRoot, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
    utimesSync(file, mtime, mtime);
  }

  /** `<camera>/<mediaId>-<created ms>.jpg` below the thumbnails folder. */
  thumbnail(mediaId: number, created: Date, camera = 'drive'): string {
    return `${camera}/${mediaId}-${created.getTime()}.jpg`;
  }

  /** A detection of `mediaId` stored at `created`, with a thumbnail file (or a folder, which cannot be unlinked). */
  async detection(mediaId: number, created: Date, thumb: 'file' | 'folder' = 'file'): Promise<number> {
    const media = await this.db
      .selectFrom('media_files')
      .select(['camera_id', 'path'])
      .where('id', '=', mediaId)
      .executeTakeFirstOrThrow();
    const thumbnail = path.join(this.thumbs, this.thumbnail(mediaId, created, media.camera_id));
    mkdirSync(thumb === 'file' ? path.dirname(thumbnail) : path.join(thumbnail, 'inside'), { recursive: true });
    writeFileSync(thumb === 'file' ? thumbnail : path.join(thumbnail, 'inside', 'x'), 'jpeg');
    const row = await this.db
      .insertInto('detections')
      .values({
        ...{ camera_id: media.camera_id, media_file_id: mediaId, file_path: media.path, file_type: 'jpg' },
        ...{ detected_at: created, object_type: 'person', confidence: 0.9, bbox_x: 1, bbox_y: 1, bbox_width: 10 },
        ...{ bbox_height: 10, thumbnail_path: thumbnail, frame_index: null, duration: null, video_codec: null },
        ...{ video_width: null, video_height: null, enrichment_data: null, created_at: created },
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** An event (soft-deleted when its name starts with `deleted`) linking `detectionIds`, with one alert if given. */
  async event(
    name: string,
    created: Date,
    detectionIds: number[],
    alert?: 'pending' | 'delivered' | 'acknowledged',
  ): Promise<number> {
    const row = await this.db
      .insertInto('events')
      .values({
        ...{ batch_id: name, camera_id: 'drive', started_at: created, ended_at: created, risk_score: 70 },
        ...{ risk_level: 'high', summary: name, recommended_action: null, llm_prompt: null, analysis_source: 'rules' },
        ...{ prompt_version: null, model: null, notes: null, snooze_until: null, created_at: created },
        detection_count: detectionIds.length,
        deleted_at: name.startsWith('deleted') ? created : null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (detectionIds.length > 0) {
      await this.db
        .insertInto('event_detections')
        .values(detectionIds.map((d) => ({ event_id: row.id, detection_id: d })))
        .execute();
    }
    if (alert !== undefined) {
      await this.db
        .insertInto('alerts')
        .values({
          ...{ event_id: row.id, rule_id: null, severity: 'high', status: alert, dedup_key: name, message: name },
          ...{ metadata: null, delivered_at: null, acknowledged_at: null, dismissed_at: null },
        })
        .execute();
    }
    return row.id;
  }

  async ids(table: 'events' | 'detections' | 'media_files'): Promise<number[]> {
    const rows = await this.db.selectFrom(table).select('id').orderBy('id').execute();
    return rows.map((r) => r.id);
  }
}
