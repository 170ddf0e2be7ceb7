import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeError } from '../../../src/detection/preprocess.js';
import { describeTruncation, isUninformative } from '../../../src/detection/truncation.js';

let jpeg: Buffer;
let png: Buffer;

beforeAll(async () => {
  const image = sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 30, b: 90 } } });
  jpeg = await image.clone().jpeg().toBuffer();
  png = await image.clone().png().toBuffer();
});

describe('describeTruncation', () => {
  it('finds nothing wrong in whole JPEG and PNG files, nor in a JPEG padded with zeros', () => {
    expect(describeTruncation(jpeg)).toBeUndefined();
    expect(describeTruncation(png)).toBeUndefined();
    expect(describeTruncation(Buffer.concat([jpeg, Buffer.alloc(64)]))).toBeUndefined();
  });

  it('names a JPEG or PNG cut short', () => {
    expect(describeTruncation(jpeg.subarray(0, jpeg.length >> 1))).toMatch(/premature end of JPEG data/);
    expect(describeTruncation(png.subarray(0, png.length - 1))).toMatch(/premature end of PNG data/);
    expect(describeTruncation(jpeg.subarray(0, 2))).toMatch(/premature end of JPEG data/);
  });

  it('says nothing about bytes that are neither JPEG nor PNG', () => {
    expect(describeTruncation(Buffer.from('not an image at all'))).toBeUndefined();
    expect(describeTruncation(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('decodeError', () => {
  it('replaces the "Unknown error" libvips leaves when another thread cleared its error buffer', () => {
    const cut = jpeg.subarray(0, jpeg.length >> 1);
    const error = decodeError(new Error('Unknown error'), 1000, cut);
    expect(error.code).toBe('MEDIA_CORRUPT');
    expect(error.message).toMatch(/cannot be decoded \(corrupt or truncated\): premature end of JPEG data/);
    expect(decodeError(new Error('Unknown error'), 1000, jpeg).message).toMatch(
      /Unknown error \(the decoder gave no detail\)/,
    );
  });

  it('keeps a message that says something, and maps the pixel limit to MEDIA_TOO_LARGE', () => {
    const error = decodeError(new Error('VipsJpeg: Premature end of input file'), 1000, jpeg);
    expect(error.message).toMatch(/: VipsJpeg: Premature end of input file$/);
    expect(decodeError(new Error('Input image exceeds pixel limit'), 1000).code).toBe('MEDIA_TOO_LARGE');
  });

  it("says each of libvips' repeated lines once, on one line", () => {
    const libvips = [
      'Input buffer has corrupt header: VipsJpeg: premature end of JPEG image',
      'VipsJpeg: Bogus Huffman table definition',
      'VipsJpeg: premature end of JPEG image',
      'VipsJpeg: Bogus Huffman table definition',
      'VipsJpeg: premature end of JPEG image',
    ].join('\n');
    expect(decodeError(new Error(libvips), 1000, jpeg).message).toBe(
      'image cannot be decoded (corrupt or truncated): Input buffer has corrupt header: VipsJpeg: premature end of ' +
        'JPEG image; VipsJpeg: Bogus Huffman table definition',
    );
  });

  it('decodes a real truncated JPEG to a message naming the premature end', async () => {
    const cut = jpeg.subarray(0, jpeg.length - 40);
    const failure = await sharp(cut, { failOn: 'truncated' })
      .raw()
      .toBuffer()
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(Error);
    expect(decodeError(failure, 1000, cut).message).toMatch(/premature end/i);
  });
});

describe('isUninformative', () => {
  it('is true only for an empty or "Unknown error" message', () => {
    expect(isUninformative('Unknown error')).toBe(true);
    expect(isUninformative('  ')).toBe(true);
    expect(isUninformative('VipsJpeg: Premature end of input file')).toBe(false);
  });
});
