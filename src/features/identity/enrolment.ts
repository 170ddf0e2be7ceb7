import sharp from 'sharp';
import type { Config } from '../../config/schema.js';
import type { ObjectDetector } from '../../detection/object-detector.js';
import type { BBox } from '../../domain/detection.js';
import type { DecodedFrame } from '../../enrichment/contract.js';
import { AppError, errorMessage } from '../../lib/errors.js';
import type { ModelRuntime } from '../../models/model-runtime.js';
import type { DbOrTx } from '../../storage/database.js';
import type { Embedder } from './contract.js';
import {
  addFaceEmbedding,
  addPersonEmbedding,
  type DetectionSource,
  entityVectors,
  type GallerySource,
  type HouseholdMember,
  personForMember,
  setEntityMember,
} from './household.repository.js';
import { lockIdentity } from './identity.repository.js';
import { loadFaceDetector } from './models/face-detector.js';
import { loadFaceEmbedder } from './models/face-embedder.js';
import { embedPerson, type FaceTools, findFaces } from './models/person-faces.js';
import { loadReidEmbedder } from './models/reid-model.js';

/**
 * Enrolling a household member: from a photo of them, from a past detection of them, or from an entity ("this
 * visitor is Jane"). A photo must show exactly one person (the object detector finds them); their appearance vector
 * goes to the member's re-identification gallery and, with faces on, their one usable face to their face identity
 * (created, named after them, on first use). Every vector is stored with the id of the model that made it. The
 * models are the process's (`ModelRuntime`): opened once, on the first enrolment.
 */

/** A photo or detection that cannot be enrolled, and why; `field` is the input it is about (400 in the API). */
export class EnrolmentRefused extends AppError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('INVALID_INPUT', message, { permanent: true });
    this.name = 'EnrolmentRefused';
  }
}

/** The models an enrolment runs: the object detector (to find the person), re-identification and, with faces on, faces. */
export interface EnrolmentModels {
  detector: Pick<ObjectDetector, 'detect'>;
  reid: Embedder;
  /** Undefined: `identity.faces.enabled` is off; no face is looked for. */
  faces: FaceTools | undefined;
}

/** What enrolment reads of the configuration. */
export type EnrolmentConfig = Pick<Config, 'identity' | 'detector'> & { ingest: Pick<Config['ingest'], 'max_pixels'> };

/**
 * The enrolment models, opened through `runtime()` on the first call and shared after; a failed open (a missing
 * model file) is retried on the next call.
 */
export function lazyEnrolmentModels(
  runtime: () => ModelRuntime,
  config: EnrolmentConfig,
): () => Promise<EnrolmentModels> {
  let opening: Promise<EnrolmentModels> | undefined;
  return () => {
    opening ??= openEnrolmentModels(runtime(), config);
    opening.catch(() => {
      opening = undefined;
    });
    return opening;
  };
}

async function openEnrolmentModels(models: ModelRuntime, config: EnrolmentConfig): Promise<EnrolmentModels> {
  const identity = config.identity;
  const [detector, reid] = await Promise.all([models.detector(), loadReidEmbedder(models, identity.reid_model)]);
  if (!identity.faces.enabled) return { detector, reid, faces: undefined };
  const [faceDetector, faceEmbedder] = await Promise.all([
    loadFaceDetector(models, identity.faces.detector_model),
    loadFaceEmbedder(models, identity.faces.embedding_model),
  ]);
  return {
    detector,
    reid,
    faces: {
      detector: faceDetector,
      embedder: faceEmbedder,
      gates: { minFacePx: identity.faces.min_face_px, minSharpness: identity.faces.min_sharpness },
    },
  };
}

/** The minimum confidence of a person detection on an enrolment photo (`detector.class_confidence.person`, else `detector.confidence`). */
export function personConfidence(config: Pick<Config, 'detector'>): number {
  return config.detector.class_confidence.person ?? config.detector.confidence;
}

export interface EnrolOptions {
  /** Refuse unless a usable face is enrolled too (faces must be on). */
  requireFace?: boolean;
}

/** The face part of an enrolment. */
export type FaceOutcome =
  | { status: 'enrolled'; personId: number; vectorId: number; modelId: string; quality: number; box: BBox }
  /** No face on the person (turned away, too far): only the appearance was enrolled. */
  | { status: 'none found' }
  /** One face, but the quality gate refused it (`reason`: too small, blurred, turned away). */
  | { status: 'not usable'; reason: string }
  /** `identity.faces.enabled` is off. */
  | { status: 'faces off' }
  /** Enrolled from an entity: its appearance only, no picture was looked at. */
  | { status: 'not looked for' };

/** What an enrolment stored. */
export interface EnrolmentResult {
  memberId: number;
  source: GallerySource;
  /** Appearance vectors added to the member's re-identification gallery. */
  appearanceVectors: number;
  /** The re-identification model id the vectors were made with. */
  reidModelId: string;
  /** Where the person was, in the photo's pixels (photo and detection enrolments). */
  personBox: BBox | null;
  face: FaceOutcome;
}

/** What the models found on the person, before anything is stored. */
interface PersonAnalysis {
  box: BBox;
  appearance: Float32Array;
  reidModelId: string;
  face:
    | { status: 'found'; embedding: Float32Array; modelId: string; quality: number; box: BBox }
    | { status: 'none found' }
    | { status: 'not usable'; reason: string }
    | { status: 'faces off' };
}

/** Decodes a photo as the enrichment stage does (EXIF orientation applied, RGB); refused when it is no picture. */
export async function decodePhoto(image: Buffer, maxPixels: number, field = 'image'): Promise<DecodedFrame> {
  if (image.length === 0) throw new EnrolmentRefused(field, `${field} is empty: send a JPEG, PNG or WebP photo`);
  try {
    const { data, info } = await sharp(image, { limitInputPixels: maxPixels })
      .rotate()
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { frameIndex: null, width: info.width, height: info.height, data };
  } catch (error) {
    throw new EnrolmentRefused(field, `${field} is not a photo that can be read (${errorMessage(error)})`);
  }
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * The one person on an enrolment photo: the detector's person detections at or above `minConfidence`. None, or more
 * than one, is refused with what to do about it.
 */
export async function findEnrolledPerson(
  models: EnrolmentModels,
  image: Buffer,
  minConfidence: number,
  field = 'image',
): Promise<BBox> {
  let people: BBox[];
  try {
    const result = await models.detector.detect(image);
    people = result.detections.filter((d) => d.label === 'person' && d.confidence >= minConfidence).map((d) => d.box);
  } catch (error) {
    if (error instanceof AppError && error.permanent) {
      throw new EnrolmentRefused(field, `${field} could not be searched for a person: ${error.message}`);
    }
    throw error;
  }
  if (people.length === 0) {
    throw new EnrolmentRefused(
      field,
      'no person found on the photo: use a photo showing the member, head to waist or more',
    );
  }
  if (people.length > 1) {
    throw new EnrolmentRefused(
      field,
      `the photo shows ${plural(people.length, 'person', 'people')}: crop it to the one to enrol`,
    );
  }
  return people[0] as BBox;
}

/** The person's appearance vector and their one usable face (when faces are on), as `options` demands. */
async function analysePerson(
  models: EnrolmentModels,
  frame: DecodedFrame,
  box: BBox,
  options: EnrolOptions,
  field: string,
): Promise<PersonAnalysis> {
  if (options.requireFace === true && models.faces === undefined) {
    throw new EnrolmentRefused(
      'require_face',
      'require_face needs face recognition, which is off (identity.faces.enabled): enrol without it',
    );
  }
  const appearance = await embedPerson(frame, box, models.reid);
  if (appearance === undefined) {
    throw new EnrolmentRefused(
      field,
      `the person is too small on the photo (${Math.round(box.width)}x${Math.round(box.height)} px): use a closer photo`,
    );
  }
  const base = { box, appearance, reidModelId: models.reid.modelId };
  if (models.faces === undefined) return { ...base, face: { status: 'faces off' } };
  const faces = await findFaces(frame, box, models.faces);
  if (faces.length > 1) {
    throw new EnrolmentRefused(
      field,
      `${plural(faces.length, 'face', 'faces')} found on the person: use a photo where only the member's face shows`,
    );
  }
  const face = faces[0];
  if (face === undefined) {
    if (options.requireFace === true) {
      throw new EnrolmentRefused(field, 'no face found on the person: use a photo where their face is clearly visible');
    }
    return { ...base, face: { status: 'none found' } };
  }
  if (face.embedding === null) {
    const reason = face.quality.rejected ?? 'not usable';
    if (options.requireFace === true) {
      throw new EnrolmentRefused(field, `the face is not usable (${reason}): use a sharper, closer, frontal photo`);
    }
    return { ...base, face: { status: 'not usable', reason } };
  }
  const { x, y, width, height } = face.box;
  return {
    ...base,
    face: {
      status: 'found',
      embedding: face.embedding,
      modelId: models.faces.embedder.modelId,
      quality: face.quality.score,
      box: { x, y, width, height },
    },
  };
}

/** Stores what was found for `member`: the appearance vector and the face (to their face identity). */
async function storeAnalysis(
  db: DbOrTx,
  member: Pick<HouseholdMember, 'id' | 'name'>,
  analysis: PersonAnalysis,
  source: GallerySource,
  detectionId: number | null,
): Promise<EnrolmentResult> {
  await addPersonEmbedding(db, {
    memberId: member.id,
    modelId: analysis.reidModelId,
    vector: analysis.appearance,
    source,
    detectionId,
  });
  let face: FaceOutcome;
  if (analysis.face.status === 'found') {
    const person = await personForMember(db, member);
    const vectorId = await addFaceEmbedding(db, {
      personId: person.id,
      modelId: analysis.face.modelId,
      vector: analysis.face.embedding,
      quality: analysis.face.quality,
    });
    face = {
      status: 'enrolled',
      personId: person.id,
      vectorId,
      modelId: analysis.face.modelId,
      quality: analysis.face.quality,
      box: analysis.face.box,
    };
  } else face = analysis.face;
  return {
    memberId: member.id,
    source,
    appearanceVectors: 1,
    reidModelId: analysis.reidModelId,
    personBox: analysis.box,
    face,
  };
}

/** A prepared enrolment: the models have run; `store` writes it (call it in the transaction that audits it). */
export interface PreparedEnrolment {
  store(db: DbOrTx, member: Pick<HouseholdMember, 'id' | 'name'>): Promise<EnrolmentResult>;
}

/**
 * Runs the models on an enrolment photo: exactly one person (else refused), their appearance vector, and with faces
 * on exactly one face (two: refused; none or an unusable one: only the appearance is enrolled, unless
 * `requireFace`, then refused). Nothing is stored until `store`.
 */
export async function prepareFromPhoto(
  models: EnrolmentModels,
  config: EnrolmentConfig,
  image: Buffer,
  options: EnrolOptions = {},
): Promise<PreparedEnrolment> {
  const frame = await decodePhoto(image, config.ingest.max_pixels);
  const box = await findEnrolledPerson(models, image, personConfidence(config));
  const analysis = await analysePerson(models, frame, box, options, 'image');
  return { store: (db, member) => storeAnalysis(db, member, analysis, 'photo', null) };
}

/**
 * Runs the models on a past person detection: `image` is its picture (the photo, or the clip's frame), the person
 * is the detection's box. Faces as for a photo. A detection of another object type is refused.
 */
export async function prepareFromDetection(
  models: EnrolmentModels,
  config: EnrolmentConfig,
  detection: DetectionSource,
  image: Buffer,
  options: EnrolOptions = {},
): Promise<PreparedEnrolment> {
  if (detection.objectType !== 'person') {
    throw new EnrolmentRefused(
      'detection_id',
      `detection ${detection.id} is a ${detection.objectType}, not a person: enrol from a person detection`,
    );
  }
  const frame = await decodePhoto(image, config.ingest.max_pixels, 'detection_id');
  const analysis = await analysePerson(models, frame, detection.bbox, options, 'detection_id');
  return { store: (db, member) => storeAnalysis(db, member, analysis, 'detection', detection.id) };
}

/** How many of an entity's newest sighting vectors are copied besides its mean ("this visitor is Jane"). */
export const ENTITY_SIGHTINGS_COPIED = 5;

/**
 * "This visitor is Jane": the entity's appearance (its running mean and up to `ENTITY_SIGHTINGS_COPIED` of its
 * newest sightings' vectors, all of the entity's model) joins the member's gallery (source `entity`), and the entity
 * and its sightings are linked to the member. No model runs. The entity must exist (the caller checks).
 */
export async function enrolFromEntity(
  db: DbOrTx,
  member: Pick<HouseholdMember, 'id'>,
  entityId: string,
): Promise<EnrolmentResult> {
  await lockIdentity(db);
  const vectors = await entityVectors(db, entityId, ENTITY_SIGHTINGS_COPIED);
  await addPersonEmbedding(db, {
    memberId: member.id,
    modelId: vectors.modelId,
    vector: vectors.mean,
    source: 'entity',
  });
  for (const sighting of vectors.sightings) {
    await addPersonEmbedding(db, {
      memberId: member.id,
      modelId: vectors.modelId,
      vector: sighting.vector,
      source: 'entity',
      detectionId: sighting.detectionId,
    });
  }
  await setEntityMember(db, entityId, member.id);
  return {
    memberId: member.id,
    source: 'entity',
    appearanceVectors: 1 + vectors.sightings.length,
    reidModelId: vectors.modelId,
    personBox: null,
    face: { status: 'not looked for' },
  };
}
