import type { JSONSchemaType } from 'ajv';

/** Files under `<assets_dir>/models/` used when an identity model path is ''. */
export const DEFAULT_IDENTITY_MODELS = {
  reid: 'person-reidentification-retail-0248.onnx',
  faceDetector: 'version-RFB-320.onnx',
  faceEmbedder: 'MobileFaceNet.onnx',
} as const;

export interface FacesConfig {
  enabled: boolean;
  detector_model: string;
  embedding_model: string;
  match_threshold: number;
  cluster_threshold: number;
  min_face_px: number;
  min_sharpness: number;
}

export interface IdentityConfig {
  enabled: boolean;
  models_dir: string;
  reid_model: string;
  member_threshold: number;
  entity_threshold: number;
  journey_window_s: number;
  presence_minutes: number;
  faces: FacesConfig;
}

const threshold = (title: string, description: string, def: number) => ({
  type: 'number' as const,
  title,
  description,
  minimum: 0,
  maximum: 1,
  default: def,
});

export const identitySchema: JSONSchemaType<IdentityConfig> = {
  type: 'object',
  title: 'Identity',
  description:
    'Who is seen: household members, faces, and people re-identified across pictures and cameras, so that the ' +
    'family does not alarm and strangers do. Off by default; every vector stays in the database on this machine.',
  additionalProperties: false,
  required: [
    'enabled',
    'models_dir',
    'reid_model',
    'member_threshold',
    'entity_threshold',
    'journey_window_s',
    'presence_minutes',
    'faces',
  ],
  properties: {
    enabled: {
      type: 'boolean',
      title: 'Enabled',
      description:
        'Re-identifies every person detection (an appearance vector), matches it against the household and the ' +
        'people seen before, and gives the analysis who was seen. Events wait for it (the enrichment stage).',
      default: false,
    },
    models_dir: {
      type: 'string',
      title: 'Identity models folder',
      description:
        "Where the identity models left '' below are looked for. '' is `<assets_dir>/models/`. The container image " +
        'does not ship them: put the three files in a folder of your own and point this at it.',
      default: '',
      'x-path': true,
    },
    reid_model: {
      type: 'string',
      title: 'Re-identification model',
      description:
        "ONNX person re-identification model (NHWC 1x256x128x3 BGR in, one vector out). '' uses " +
        `\`${DEFAULT_IDENTITY_MODELS.reid}\` in \`models_dir\` (Intel Open Model Zoo, Apache-2.0).`,
      default: '',
      'x-path': true,
    },
    member_threshold: threshold(
      'Household match threshold',
      "Cosine similarity at or above which a person's appearance matches a household member's gallery " +
        '(measured: docs/IDENTITY-THRESHOLDS.md).',
      0.8,
    ),
    entity_threshold: threshold(
      'Same-person threshold',
      'Cosine similarity at or above which a person detection joins an entity seen before (a returning visitor).',
      0.7,
    ),
    journey_window_s: {
      type: 'integer',
      title: 'Journey window',
      description:
        'Seconds between two sightings of the same person (on any camera) that still make one journey across cameras.',
      minimum: 10,
      maximum: 86_400,
      default: 600,
    },
    presence_minutes: {
      type: 'integer',
      title: 'Presence window',
      description: "Minutes a household member counts as present (Home Assistant's binary sensor) after a sighting.",
      minimum: 1,
      maximum: 1440,
      default: 10,
    },
    faces: {
      type: 'object',
      title: 'Face recognition',
      description:
        'Faces on person crops: detected (UltraFace), checked for quality, embedded and matched against known ' +
        'people; unknown faces seen again are grouped. Off: no face is looked for or stored.',
      additionalProperties: false,
      required: [
        'enabled',
        'detector_model',
        'embedding_model',
        'match_threshold',
        'cluster_threshold',
        'min_face_px',
        'min_sharpness',
      ],
      properties: {
        enabled: { type: 'boolean', title: 'Enabled', description: 'Look for faces at all.', default: true },
        detector_model: {
          type: 'string',
          title: 'Face detector model',
          description: `UltraFace ONNX model. '' uses \`${DEFAULT_IDENTITY_MODELS.faceDetector}\` in \`identity.models_dir\` (MIT).`,
          default: '',
          'x-path': true,
        },
        embedding_model: {
          type: 'string',
          title: 'Face embedding model',
          description:
            'Any ONNX face embedding model taking a 1x3x112x112 RGB face ((x-127.5)/127.5). ' +
            `'' uses \`${DEFAULT_IDENTITY_MODELS.faceEmbedder}\` in \`identity.models_dir\`, whose weights were trained on ` +
            'MS1M-derived data under research-only terms: fine for evaluation, supply your own model for production.',
          default: '',
          'x-path': true,
        },
        match_threshold: threshold(
          'Face match threshold',
          'Cosine similarity at or above which a face matches a known person.',
          0.65,
        ),
        cluster_threshold: threshold(
          'Unknown face grouping threshold',
          'Cosine similarity at or above which an unknown face joins an "Unknown person N" group.',
          0.65,
        ),
        min_face_px: {
          type: 'integer',
          title: 'Minimum face size',
          description: 'Faces narrower than this many pixels are recorded but not matched (too small to tell).',
          minimum: 8,
          maximum: 512,
          default: 32,
        },
        min_sharpness: {
          type: 'number',
          title: 'Minimum sharpness',
          description: 'Variance of the Laplacian of the grey face below which it is too blurred to match.',
          minimum: 0,
          maximum: 10_000,
          default: 20,
        },
      },
    },
  },
};
