import type { Config } from '../../config/schema.js';
import type { EnrichmentResult, FrameProcessor } from '../../enrichment/contract.js';
import type { DbOrTx } from '../../storage/database.js';
import type { Embedder, FaceDetector } from './contract.js';
import { addFaceEmbedding } from './household.repository.js';
import {
  assignFaceEvents,
  deleteFaceEventsOf,
  detectionPlaces,
  faceGallery,
  faceGallerySize,
  insertFaceCluster,
  insertFaceEvent,
  loneUnknownFaces,
} from './identity.repository.js';
import { loadFaceDetector } from './models/face-detector.js';
import { loadFaceEmbedder } from './models/face-embedder.js';
import { type FaceFinding, findFaces } from './models/person-faces.js';
import { bestMatch, type GalleryEntry } from './vectors.js';

export const FACE_PROCESSOR = 'faces';
/** An unknown-face cluster keeps at most this many vectors (the first ones; enough to be matched again). */
export const CLUSTER_GALLERY_MAX = 20;
/** How far back a lone unknown face may still be grouped with a new one. */
export const CLUSTER_HORIZON_MS = 30 * 86_400_000;

export interface FaceMatching {
  matchThreshold: number;
  clusterThreshold: number;
}

/**
 * Face recognition on person crops: UltraFace on the upper part of each person box, the quality gate (size,
 * sharpness, frontal enough), an embedding for the faces that pass (`identity.faces.embedding_model`, any
 * 112x112 model), and a match against known people (`match_threshold`) and unknown-face clusters
 * (`cluster_threshold`). Every face found is a `face_detection_events` row; an unknown face seen again groups with
 * the earlier one into "Unknown person N".
 */
export function faceProcessor(config: Config): FrameProcessor {
  const faces = config.identity.faces;
  const gates = { minFacePx: faces.min_face_px, minSharpness: faces.min_sharpness };
  const matching = { matchThreshold: faces.match_threshold, clusterThreshold: faces.cluster_threshold };
  let tools: { detector: FaceDetector; embedder: Embedder } | undefined;
  return {
    name: FACE_PROCESSOR,
    appliesTo: ['person'],
    async load(models) {
      const detector = await loadFaceDetector(models, faces.detector_model);
      const embedder = await loadFaceEmbedder(models, faces.embedding_model);
      tools = { detector, embedder };
    },
    async process(frame, detections) {
      if (tools === undefined) throw new Error('the face models are not loaded');
      const results: EnrichmentResult[] = [];
      for (const d of detections) {
        const findings = await findFaces(frame, d.bbox, { ...tools, gates });
        results.push({ detectionId: d.id, data: { findings } });
      }
      return results;
    },
    async persist(tx, _mediaFileId, results) {
      if (tools === undefined) throw new Error('the face models are not loaded');
      await storeFaces(tx, tools.embedder.modelId, results, matching);
    },
    async close() {
      tools = undefined;
    },
  };
}

type ClusterKey = { personId: number; cluster: boolean };

/** The face events of one file's person detections, matched and grouped, in the enrichment transaction. */
export async function storeFaces(
  tx: DbOrTx,
  modelId: string,
  results: readonly EnrichmentResult[],
  matching: FaceMatching,
): Promise<void> {
  const found = results.flatMap((r) =>
    r.detectionId === null ? [] : [{ detectionId: r.detectionId, findings: (r.data.findings ?? []) as FaceFinding[] }],
  );
  const ids = found.map((f) => f.detectionId);
  await deleteFaceEventsOf(tx, ids); // enriched again (reprocessing): the faces are found anew
  if (!found.some((f) => f.findings.length > 0)) return;
  const places = await detectionPlaces(tx, ids);
  const gallery: GalleryEntry<ClusterKey>[] = await faceGallery(tx, modelId);
  const earliest = Math.min(...[...places.values()].map((p) => p.at.getTime()));
  const lone = await loneUnknownFaces(tx, modelId, new Date(earliest - CLUSTER_HORIZON_MS));
  for (const { detectionId, findings } of found) {
    const place = places.get(detectionId);
    if (place === undefined) continue;
    for (const finding of findings) {
      const base = {
        detectionId,
        cameraId: place.cameraId,
        detectedAt: place.at,
        box: finding.box,
        confidence: finding.box.score,
        quality: finding.quality.score,
        rejected: finding.quality.rejected,
      };
      const vector = finding.embedding;
      if (vector === null) {
        await insertFaceEvent(tx, {
          ...base,
          modelId: null,
          vector: null,
          personId: null,
          similarity: null,
          isUnknown: false,
        });
        continue;
      }
      const match = bestMatch(vector, gallery);
      const threshold = match?.key.cluster === false ? matching.matchThreshold : matching.clusterThreshold;
      if (match !== undefined && match.similarity >= threshold) {
        const { personId, cluster } = match.key;
        const faceEventId = await insertFaceEvent(tx, {
          ...base,
          modelId,
          vector,
          personId,
          similarity: match.similarity,
          isUnknown: cluster,
        });
        if (cluster && (await faceGallerySize(tx, personId)) < CLUSTER_GALLERY_MAX) {
          await addFaceEmbedding(tx, { personId, modelId, vector, quality: finding.quality.score, faceEventId });
          gallery.push({ key: match.key, vector });
        }
        continue;
      }
      // Nobody known: group with an earlier lone unknown face, or stay alone until one comes.
      const earlier = bestMatch(vector, lone);
      const faceEventId = await insertFaceEvent(tx, {
        ...base,
        modelId,
        vector,
        personId: null,
        similarity: match?.similarity ?? null,
        isUnknown: true,
      });
      if (earlier !== undefined && earlier.similarity >= matching.clusterThreshold) {
        const personId = await insertFaceCluster(tx);
        const first = lone.find((l) => l.key === earlier.key);
        await assignFaceEvents(tx, [earlier.key.faceEventId, faceEventId], personId);
        if (first !== undefined) {
          await addFaceEmbedding(tx, {
            personId,
            modelId,
            vector: first.vector,
            quality: earlier.key.quality,
            faceEventId: earlier.key.faceEventId,
          });
          gallery.push({ key: { personId, cluster: true }, vector: first.vector });
        }
        await addFaceEmbedding(tx, { personId, modelId, vector, quality: finding.quality.score, faceEventId });
        gallery.push({ key: { personId, cluster: true }, vector });
        if (first !== undefined) lone.splice(lone.indexOf(first), 1);
      } else {
        lone.push({ key: { faceEventId, quality: finding.quality.score }, vector });
      }
    }
  }
}
