import { describe, expect, it } from 'vitest';
import {
  fileExtension,
  formatMatchesExtension,
  isSupportedMediaPath,
  mediaKindFromPath,
  mediaKindOfFormat,
  sniffMediaType,
} from '../../../src/domain/media-kind.js';

function bytes(...parts: (number[] | string)[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
}

describe('mediaKindFromPath', () => {
  it.each([
    ['/m/cam/a.jpg', 'image'],
    ['/m/cam/a.JPEG', 'image'],
    ['/m/cam/a.Png', 'image'],
    ['/m/cam/clip.mp4', 'video'],
    ['/m/cam/clip.MKV', 'video'],
    ['/m/cam/clip.avi', 'video'],
    ['/m/cam/clip.mov', 'video'],
    ['/m/cam/a.gif', 'unsupported'],
    ['/m/cam/a.jpg.part', 'unsupported'],
    ['/m/cam/notes.txt', 'unsupported'],
    ['/m/cam/jpg', 'unsupported'],
    ['/m/cam/.jpg', 'unsupported'],
    ['/m/cam.jpg/readme', 'unsupported'],
  ])('%s is %s', (file, kind) => {
    expect(mediaKindFromPath(file)).toBe(kind);
    expect(isSupportedMediaPath(file)).toBe(kind !== 'unsupported');
  });

  it('extracts lower-cased extensions of the base name only', () => {
    expect(fileExtension('/a.b/c.D.JPG')).toBe('.jpg');
    expect(fileExtension('/a.b/noext')).toBe('');
  });
});

describe('sniffMediaType', () => {
  it.each([
    ['jpeg', bytes([0xff, 0xd8, 0xff, 0xe0, 0, 0x10], 'JFIF')],
    ['png', bytes([0x89], 'PNG', [0x0d, 0x0a, 0x1a, 0x0a])],
    ['mp4', bytes([0, 0, 0, 0x20], 'ftypisom', [0, 0, 2, 0])],
    ['mp4', bytes([0, 0, 0, 0x14], 'ftypqt  ')],
    ['quicktime', bytes([0, 0, 0, 0x08], 'wide', [0, 0, 0, 0])],
    ['mkv', bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81])],
    ['avi', bytes('RIFF', [0x24, 0x10, 0, 0], 'AVI LIST')],
  ])('recognises %s', (format, header) => {
    expect(sniffMediaType(header)).toBe(format);
  });

  it.each([
    ['text', bytes('hello, this is not a photo')],
    ['empty', Buffer.alloc(0)],
    ['a JPEG prefix cut short', bytes([0xff, 0xd8])],
    ['a WAV file (RIFF but not AVI)', bytes('RIFF', [0x24, 0x10, 0, 0], 'WAVEfmt ')],
    ['GIF', bytes('GIF89a', [1, 0, 1, 0])],
    ['an ftyp box one byte off', bytes([0, 0, 0x20], 'ftypisom')],
  ])('rejects %s', (_name, header) => {
    expect(sniffMediaType(header)).toBeUndefined();
  });
});

describe('formatMatchesExtension', () => {
  it.each([
    ['a.jpg', 'jpeg', true],
    ['a.JPEG', 'jpeg', true],
    ['a.jpg', 'png', true],
    ['a.png', 'jpeg', true],
    ['a.mp4', 'mp4', true],
    ['a.mov', 'mp4', true],
    ['a.mov', 'quicktime', true],
    ['a.mp4', 'quicktime', false],
    ['a.mkv', 'mkv', true],
    ['a.avi', 'avi', true],
    ['a.jpg', 'mp4', false],
    ['a.mp4', 'jpeg', false],
    ['a.avi', 'mkv', false],
    ['a.txt', 'jpeg', false],
  ] as const)('%s holding %s: %s', (file, format, expected) => {
    expect(formatMatchesExtension(file, format)).toBe(expected);
  });

  it('maps formats to media kinds', () => {
    expect(mediaKindOfFormat('png')).toBe('image');
    expect(mediaKindOfFormat('quicktime')).toBe('video');
  });
});
