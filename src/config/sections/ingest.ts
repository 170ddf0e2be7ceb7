import type { JSONSchemaType } from 'ajv';

export interface IngestConfig {
  stable_ms: number;
  polling: boolean;
  poll_interval_ms: number;
  max_file_mb: number;
  max_pixels: number;
  video_fps: number;
  video_max_frames: number;
  ffmpeg_path: string;
  reconcile_interval_s: number;
}

export const ingestSchema: JSONSchemaType<IngestConfig> = {
  type: 'object',
  title: 'Ingest',
  description: 'How uploads under `media_root` are found, checked and queued for detection.',
  additionalProperties: false,
  required: [
    'stable_ms',
    'polling',
    'poll_interval_ms',
    'max_file_mb',
    'max_pixels',
    'video_fps',
    'video_max_frames',
    'ffmpeg_path',
    'reconcile_interval_s',
  ],
  properties: {
    stable_ms: {
      type: 'integer',
      title: 'Stable time (ms)',
      description: 'A file is ready once its size has not changed for this long (the upload has finished).',
      minimum: 0,
      maximum: 600_000,
      default: 2000,
    },
    polling: {
      type: 'boolean',
      title: 'Poll the file system',
      description:
        'Poll instead of using file-system events: needed on network shares (NFS, SMB) and some Docker mounts.',
      default: false,
    },
    poll_interval_ms: {
      type: 'integer',
      title: 'Poll interval (ms)',
      description: 'How often folders are polled when `polling` is on.',
      minimum: 50,
      maximum: 600_000,
      default: 1000,
    },
    max_file_mb: {
      type: 'number',
      title: 'Maximum file size (MB)',
      description: 'Larger files are rejected without being decoded.',
      exclusiveMinimum: 0,
      default: 50,
    },
    max_pixels: {
      type: 'integer',
      title: 'Maximum pixels',
      description: 'Images with more pixels (width x height) are rejected as decompression bombs.',
      minimum: 1,
      default: 40_000_000,
    },
    video_fps: {
      type: 'number',
      title: 'Video sampling rate (frames/s)',
      description: 'Frames taken per second of a video clip for detection.',
      exclusiveMinimum: 0,
      maximum: 60,
      default: 1,
    },
    video_max_frames: {
      type: 'integer',
      title: 'Frames per video',
      description: 'At most this many frames are sampled from one clip.',
      minimum: 1,
      maximum: 1000,
      default: 10,
    },
    ffmpeg_path: {
      type: 'string',
      title: 'ffmpeg command',
      description: 'ffmpeg executable used to sample video frames: a name looked up in PATH or a full path.',
      minLength: 1,
      default: 'ffmpeg',
    },
    reconcile_interval_s: {
      type: 'integer',
      title: 'Reconciliation interval (s)',
      description:
        'Seconds between sweeps that queue again the media files left `queued` (for instance after a lost job); ' +
        '0 turns the periodic sweep off (the sweep at start always runs).',
      minimum: 0,
      default: 60,
    },
  },
};
