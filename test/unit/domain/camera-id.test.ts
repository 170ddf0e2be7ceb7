import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cameraForPath, cameraIdFromFolder, isCameraPathError } from '../../../src/domain/camera-id.js';

describe('cameraIdFromFolder', () => {
  it.each([
    ['Front Door', 'front_door'],
    ['Garage-Cam 2', 'garage_cam_2'],
    ['Café Porte', 'cafe_porte'],
    ['  Back   Yard  ', 'back_yard'],
    ['--Drive__Way--', 'drive_way'],
    ['already_normal', 'already_normal'],
    ['ＦＵＬＬ　ＷＩＤＴＨ', 'full_width'],
    ['Straße Süd', 'strasse_sud'],
    ['Øresund Kamera', 'oresund_kamera'],
    ['Łódź 1', 'lodz_1'],
    ['Porch 🐈 Cam', 'porch_cam'],
    ['玄関 Cam', 'cam'],
  ])('%j -> %j', (name, id) => {
    expect(cameraIdFromFolder(name)).toBe(id);
  });

  it('treats NFC and NFD spellings of the same name alike', () => {
    expect(cameraIdFromFolder('Cafe\u0301')).toBe(cameraIdFromFolder('Caf\u00e9'));
  });

  it('cuts ids to 64 characters without a trailing underscore', () => {
    const id = cameraIdFromFolder(`${'a'.repeat(63)} b c`);
    expect(id).toBe('a'.repeat(63));
    expect(cameraIdFromFolder('x'.repeat(100))).toBe('x'.repeat(64));
  });

  it('gives names that normalise to nothing a stable hash-based id', () => {
    const expected = `camera_${createHash('sha256').update('???').digest('hex').slice(0, 8)}`;
    expect(cameraIdFromFolder('???')).toBe(expected);
    expect(cameraIdFromFolder('???')).toBe(expected);
    const cjk = cameraIdFromFolder('玄関');
    expect(cjk).toMatch(/^camera_[0-9a-f]{8}$/);
    expect(cameraIdFromFolder('車庫')).not.toBe(cjk);
    // NFD and NFC spellings of the same Hangul name (가) hash alike too.
    expect(cameraIdFromFolder('\u1100\u1161')).toBe(cameraIdFromFolder('\uac00'));
  });
});

describe('cameraForPath', () => {
  const root = '/media/cams';

  it('takes the first folder under the root as the camera', () => {
    expect(cameraForPath(root, '/media/cams/Front Door/2026/01/02/snap.jpg')).toStrictEqual({
      cameraId: 'front_door',
      cameraName: 'Front Door',
      folderPath: '/media/cams/Front Door',
      relativePath: 'Front Door/2026/01/02/snap.jpg',
    });
  });

  it('accepts a root with a trailing slash and a relative file path', () => {
    expect(cameraForPath('/media/cams/', 'Garage-Cam 2/a.png')).toStrictEqual({
      cameraId: 'garage_cam_2',
      cameraName: 'Garage-Cam 2',
      folderPath: '/media/cams/Garage-Cam 2',
      relativePath: 'Garage-Cam 2/a.png',
    });
  });

  it('allows dots inside names that are not hidden', () => {
    const result = cameraForPath(root, '/media/cams/cam.v2/img.2026.jpg');
    expect(isCameraPathError(result)).toBe(false);
    expect(result).toMatchObject({ cameraId: 'cam_v2', relativePath: 'cam.v2/img.2026.jpg' });
  });

  it('refuses a file directly in the root', () => {
    const result = cameraForPath(root, '/media/cams/loose.jpg');
    expect(isCameraPathError(result)).toBe(true);
    expect(result).toStrictEqual({
      code: 'MEDIA_UNSUPPORTED',
      error:
        '/media/cams/loose.jpg is directly in the media root /media/cams; put it in a camera folder ' +
        '(<media_root>/<Camera Name>/)',
    });
  });

  it.each([
    '/media/other/cam/x.jpg',
    '/media/cams/../other/cam/x.jpg',
    '/media/camsX/cam/x.jpg',
    '/media/cams',
    '../outside/x.jpg',
  ])('refuses %s as outside the root', (file) => {
    const result = cameraForPath(root, file);
    expect(isCameraPathError(result) && result.code).toBe('MEDIA_OUTSIDE_ROOT');
  });

  it('accepts a path that uses .. but stays inside the root', () => {
    expect(cameraForPath(root, '/media/cams/Other/../Front Door/x.jpg')).toMatchObject({ cameraId: 'front_door' });
  });

  it.each([
    ['/media/cams/.incoming/x.jpg', '.incoming'],
    ['/media/cams/Front Door/.x.jpg.part', '.x.jpg.part'],
    ['/media/cams/Front Door/.tmp/x.jpg', '.tmp'],
  ])('refuses hidden segments: %s', (file, segment) => {
    expect(cameraForPath(root, file)).toStrictEqual({
      code: 'MEDIA_UNSUPPORTED',
      error: `${file} has a hidden path segment '${segment}' (temporary or system file); it is ignored`,
    });
  });

  it('does not treat a hidden folder above the root as hidden', () => {
    expect(cameraForPath('/srv/.data/media', '/srv/.data/media/Cam/x.jpg')).toMatchObject({ cameraId: 'cam' });
  });
});
