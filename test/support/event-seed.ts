import { randomBytes } from 'node:crypto';
import type { AlertRecord, EventRecord } from '../../src/domain/events.js';
import { riskLevelFor } from '../../src/domain/risk.js';
import type { Db } from '../../src/storage/database.js';

/**
 * Events and alerts written straight into the database, so a test can announce them on the bus itself (the MQTT
 * bridge's event lifecycle without the analysis worker).
 */

export interface SeededEventDetection {
  objectType: string;
  confidence: number;
  box: { x: number; y: number; width: number; height: number };
  /** The sampled frame of a clip; null for a photo. */
  frameIndex?: number | null;
}

export interface SeedEventInput {
  cameraId: string;
  /** Media file path relative to the media root (the caller places the file there, or not). */
  mediaPath: string;
  mediaType?: 'image' | 'video';
  detections: readonly SeededEventDetection[];
  riskScore: number;
  closedAt: Date | null;
  startedAt?: Date;
}

/** A camera (created when missing), a media file, its detections and an event linking them. */
export async function seedEvent(db: Db, input: SeedEventInput): Promise<EventRecord> {
  const at = input.startedAt ?? new Date();
  await db
    .insertInto('cameras')
    .values({
      id: input.cameraId,
      name: input.cameraId.replaceAll('_', ' '),
      folder_path: input.cameraId,
      last_seen_at: at,
      deleted_at: null,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  const media = await db
    .insertInto('media_files')
    .values({
      camera_id: input.cameraId,
      path: input.mediaPath,
      sha256: randomBytes(32).toString('hex'),
      size: 1000,
      media_type: input.mediaType ?? 'image',
      width: 1000,
      height: 1000,
      captured_at: at,
      status: 'done',
      error_code: null,
      error: null,
      processed_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const detections = await db
    .insertInto('detections')
    .values(
      input.detections.map((d) => ({
        camera_id: input.cameraId,
        media_file_id: media.id,
        file_path: input.mediaPath,
        file_type: input.mediaType === 'video' ? 'mp4' : 'jpg',
        detected_at: at,
        object_type: d.objectType,
        confidence: d.confidence,
        bbox_x: d.box.x,
        bbox_y: d.box.y,
        bbox_width: d.box.width,
        bbox_height: d.box.height,
        thumbnail_path: null,
        media_type: input.mediaType ?? 'image',
        frame_index: d.frameIndex ?? null,
        duration: null,
        video_codec: null,
        video_width: null,
        video_height: null,
        enrichment_data: null,
      })),
    )
    .returning('id')
    .execute();
  const row = await db
    .insertInto('events')
    .values({
      batch_id: `${input.cameraId}:seeded-${randomBytes(4).toString('hex')}`,
      camera_id: input.cameraId,
      started_at: at,
      ended_at: at,
      risk_score: input.riskScore,
      risk_level: riskLevelFor(input.riskScore),
      summary: `seeded event, score ${input.riskScore}`,
      reasoning: 'seeded',
      recommended_action: null,
      llm_prompt: null,
      analysis_source: 'rules',
      prompt_version: null,
      model: null,
      object_types: [...new Set(input.detections.map((d) => d.objectType))],
      detection_count: input.detections.length,
      is_fast_path: input.closedAt === null,
      notes: null,
      snooze_until: null,
      deleted_at: null,
      closed_at: input.closedAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  if (detections.length > 0) {
    await db
      .insertInto('event_detections')
      .values(detections.map((d) => ({ event_id: row.id, detection_id: d.id })))
      .execute();
  }
  return {
    id: row.id,
    batchId: row.batch_id,
    cameraId: row.camera_id,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    riskScore: row.risk_score,
    riskLevel: row.risk_level,
    summary: row.summary,
    reasoning: row.reasoning,
    recommendedAction: row.recommended_action,
    objectTypes: row.object_types,
    detectionCount: row.detection_count,
    isFastPath: row.is_fast_path,
    analysisSource: row.analysis_source,
    closedAt: row.closed_at,
  };
}

/** The event as re-analysed: a new score (and level), optionally closed; the row is updated to match. */
export async function reanalyse(
  db: Db,
  event: EventRecord,
  riskScore: number,
  closedAt: Date | null,
): Promise<EventRecord> {
  const next: EventRecord = {
    ...event,
    riskScore,
    riskLevel: riskLevelFor(riskScore),
    summary: `seeded event, score ${riskScore}`,
    closedAt,
  };
  await db
    .updateTable('events')
    .set({ risk_score: riskScore, risk_level: next.riskLevel, summary: next.summary, closed_at: closedAt })
    .where('id', '=', event.id)
    .execute();
  return next;
}

/** A pending alert of `event`, stored, as the bus carries it. */
export async function seedAlert(db: Db, event: EventRecord, severity: AlertRecord['severity']): Promise<AlertRecord> {
  const row = await db
    .insertInto('alerts')
    .values({
      event_id: event.id,
      rule_id: null,
      severity,
      dedup_key: `seeded:${event.id}`,
      message: `alert of event ${event.id}`,
      metadata: null,
      delivered_at: null,
      acknowledged_at: null,
      dismissed_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return {
    id: row.id,
    eventId: row.event_id,
    ruleId: row.rule_id,
    severity: row.severity,
    status: row.status,
    dedupKey: row.dedup_key,
    message: row.message,
    cameraId: event.cameraId,
    createdAt: row.created_at,
  };
}
