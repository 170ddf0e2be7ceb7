import type { Config } from '../../config/schema.js';
import type { BBox } from '../../domain/detection.js';
import type { EnrichmentResult, FrameProcessor } from '../../enrichment/contract.js';
import type { DbOrTx } from '../../storage/database.js';
import type { Embedder, FaceBox, FaceDetector } from './contract.js';
import { addFaceEmbedding } from './household.repository.js';
import {
  assignFaceEvents,
  deleteFaceEventsOf,
  detectionPlaces,
  faceGallery,
  faceGallerySize,
  insertFaceCluster,
  insertFaceEvent,
  lockIdentity,
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
      const found: FaceFinding[][] = [];
      for (const d of detections) found.push(await findFaces(frame, d.bbox, { ...tools, gates }));
      const boxes = detections.map((d) => d.bbox);
      return detections.map((d, i) => ({
        detectionId: d.id,
        data: { findings: found[i]!.filter((f) => faceOwner(f.box, boxes) === i) },
      }));
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

/**
 * A face's match in the gallery: the best named person at or above the match threshold, else the best unknown-face
 * cluster at or above the cluster threshold (a cluster a little closer never hides a named person who matched).
 */
export function faceMatch(
  vector: Float32Array,
  gallery: readonly GalleryEntry<ClusterKey>[],
  matching: FaceMatching,
): { match: { key: ClusterKey; similarity: number } | undefined; namedSimilarity: number | null } {
  const named = bestMatch(
    vector,
    gallery.filter((g) => !g.key.cluster),
  );
  const namedSimilarity = named?.similarity ?? null;
  if (named !== undefined && named.similarity >= matching.matchThreshold) return { match: named, namedSimilarity };
  const cluster = bestMatch(
    vector,
    gallery.filter((g) => g.key.cluster),
  );
  const match = cluster !== undefined && cluster.similarity >= matching.clusterThreshold ? cluster : undefined;
  return { match, namedSimilarity };
}

/**
 * Which of a frame's person boxes a face belongs to: of the boxes holding the face's centre, the one whose
 * horizontal centre is nearest to it (relative to the box's width). A head region looks a little beyond its person,
 * so a neighbour's face can be found on two people: it is kept for one. Undefined: in no box. Pure.
 */
export function faceOwner(face: FaceBox, persons: readonly BBox[]): number | undefined {
  const cx = face.x + face.width / 2;
  const cy = face.y + face.height / 2;
  let best: { index: number; offset: number } | undefined;
  persons.forEach((p, index) => {
    if (cx < p.x || cx > p.x + p.width || cy < p.y || cy > p.y + p.height) return;
    const offset = Math.abs(cx - (p.x + p.width / 2)) / Math.max(1, p.width);
    if (best === undefined || offset < best.offset) best = { index, offset };
  });
  return best?.index;
}

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
  await lockIdentity(tx);
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
          namedSimilarity: null,
          isUnknown: false,
        });
        continue;
      }
      const { match, namedSimilarity } = faceMatch(vector, gallery, matching);
      if (match !== undefined) {
        const { personId, cluster } = match.key;
        const faceEventId = await insertFaceEvent(tx, {
          ...base,
          modelId,
          vector,
          personId,
          similarity: match.similarity,
          namedSimilarity,
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
        similarity: null,
        namedSimilarity,
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
