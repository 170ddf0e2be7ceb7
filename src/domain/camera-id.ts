import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ErrorCode } from '../lib/errors.js';

/**
 * Camera identity from the upload folder layout `<media_root>/<Camera Name>/…/file`. Pure: string work only (the
 * paths are never touched on disk; `inspect-file` resolves symlinks).
 */

export const MAX_CAMERA_ID_LENGTH = 64;

/** Letters that NFKD does not decompose into ASCII + marks, transliterated the way people write them in ASCII. */
const TRANSLITERATIONS: Readonly<Record<string, string>> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ł: 'l',
  ı: 'i',
};

/**
 * `Front Door` → `front_door`, `Garage-Cam 2` → `garage_cam_2`, `Café Porte` → `cafe_porte`. A name with nothing
 * left after normalising (`???`, all-CJK) gets a stable `camera_<8 hex of sha256(NFC name)>`, so the same folder
 * always maps to the same camera (NFC first: macOS clients upload NFD names).
 */
export function cameraIdFromFolder(name: string): string {
  const ascii = name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/\P{ASCII}/gu, (ch) => TRANSLITERATIONS[ch] ?? '_');
  const id = ascii
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, MAX_CAMERA_ID_LENGTH)
    .replace(/_+$/, '');
  if (id !== '') return id;
  const digest = createHash('sha256').update(name.normalize('NFC'), 'utf8').digest('hex');
  return `camera_${digest.slice(0, 8)}`;
}

export interface CameraPath {
  cameraId: string;
  /** The folder name as uploaded (first folder under the media root). */
  cameraName: string;
  /** Absolute path of the camera folder. */
  folderPath: string;
  /** Path of the file below the media root, `/`-separated. */
  relativePath: string;
}

export interface CameraPathError {
  error: string;
  code: Extract<ErrorCode, 'MEDIA_OUTSIDE_ROOT' | 'MEDIA_UNSUPPORTED'>;
}

/**
 * The camera a file belongs to: the FIRST folder under `mediaRoot`. Refuses files directly in the root, paths that
 * escape it (`..`, other absolute paths) and hidden segments (`.incoming/…`, `.file.jpg.part` FTP temp files).
 */
export function cameraForPath(mediaRoot: string, filePath: string): CameraPath | CameraPathError {
  const root = path.resolve(mediaRoot);
  const file = path.resolve(root, filePath);
  const relative = path.relative(root, file);
  if (relative === '' || relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    return {
      code: 'MEDIA_OUTSIDE_ROOT',
      error: `${filePath} is not inside the media root ${root}; cameras must upload below it`,
    };
  }
  const segments = relative.split(path.sep);
  const hidden = segments.find((s) => s.startsWith('.'));
  if (hidden !== undefined) {
    return {
      code: 'MEDIA_UNSUPPORTED',
      error: `${filePath} has a hidden path segment '${hidden}' (temporary or system file); it is ignored`,
    };
  }
  const cameraName = segments[0];
  if (segments.length < 2 || cameraName === undefined) {
    return {
      code: 'MEDIA_UNSUPPORTED',
      error: `${filePath} is directly in the media root ${root}; put it in a camera folder (<media_root>/<Camera Name>/)`,
    };
  }
  return {
    cameraId: cameraIdFromFolder(cameraName),
    cameraName,
    folderPath: path.join(root, cameraName),
    relativePath: segments.join('/'),
  };
}

export function isCameraPathError(value: CameraPath | CameraPathError): value is CameraPathError {
  return 'error' in value;
}
