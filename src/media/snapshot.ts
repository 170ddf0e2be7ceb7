import sharp, { type Metadata } from 'sharp';
import type { BBox } from '../domain/detection.js';
import { errorMessage, permanentError } from '../lib/errors.js';

/**
 * The camera `snapshot` image entity's picture: the source image EXIF-oriented like the detector saw it, boxes and
 * labels ("person 93%") drawn with an SVG overlay, the longest side at most `maxPx` (never enlarged), JPEG.
 */

export interface SnapshotDetection {
  label: string;
  confidence: number;
  /** Source-image pixels after EXIF orientation, as the detector reports them. */
  box: BBox;
}

export interface SnapshotOptions {
  /** JPEG quality (default 80). */
  quality?: number;
  /** Pixel limit for decoding (default sharp's own). */
  maxPixels?: number;
}

const COLOURS: Readonly<Record<string, string>> = {
  person: '#e53935',
  car: '#1e88e5',
  truck: '#3949ab',
  bus: '#8e24aa',
  bicycle: '#00897b',
  motorcycle: '#f4511e',
  dog: '#fdd835',
  cat: '#fb8c00',
  bird: '#43a047',
};
const DEFAULT_COLOUR = '#00acc1';

/** Black text on light label colours, white on dark ones. */
function textColour(hex: string): string {
  const value = Number.parseInt(hex.slice(1), 16);
  const luminance = 0.299 * ((value >> 16) & 255) + 0.587 * ((value >> 8) & 255) + 0.114 * (value & 255);
  return luminance > 160 ? '#000000' : '#ffffff';
}

const escapeXml = (text: string): string =>
  text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);

const fixed = (n: number): string => String(Math.round(n * 10) / 10);

type Attributes = Record<string, string | number>;

/** `key="value"` pairs, numbers rounded to 0.1 px. */
const attributes = (attrs: Attributes): string =>
  Object.entries(attrs)
    .map(([key, value]) => `${key}="${typeof value === 'number' ? fixed(value) : value}"`)
    .join(' ');

/** An SVG element with optional escaped text. */
function element(name: string, attrs: Attributes, text?: string): string {
  return text === undefined
    ? `<${name} ${attributes(attrs)}/>`
    : `<${name} ${attributes(attrs)}>${escapeXml(text)}</${name}>`;
}

/** The overlay for an image of `width` x `height` whose boxes were scaled by `scale` from source pixels. */
export function overlaySvg(
  detections: readonly SnapshotDetection[],
  width: number,
  height: number,
  scale: number,
): string {
  const longest = Math.max(width, height);
  const stroke = Math.max(2, Math.round(longest / 300));
  const fontSize = Math.max(11, Math.round(longest / 45));
  const labelHeight = Math.round(fontSize * 1.35);
  const parts: string[] = [];
  for (const d of detections) {
    const x = Math.min(Math.max(0, d.box.x * scale), width - 1);
    const y = Math.min(Math.max(0, d.box.y * scale), height - 1);
    const w = Math.max(1, Math.min(d.box.width * scale, width - x));
    const h = Math.max(1, Math.min(d.box.height * scale, height - y));
    const colour = COLOURS[d.label] ?? DEFAULT_COLOUR;
    const text = `${d.label} ${Math.round(d.confidence * 100)}%`;
    const labelWidth = Math.round(text.length * fontSize * 0.62 + fontSize * 0.6);
    // Above the box when there is room, else just inside its top edge.
    const labelY = y >= labelHeight ? y - labelHeight : y;
    const labelX = Math.min(x, Math.max(0, width - labelWidth));
    parts.push(
      element('rect', { x, y, width: w, height: h, fill: 'none', stroke: colour, 'stroke-width': stroke }),
      element('rect', { x: labelX, y: labelY, width: labelWidth, height: labelHeight, fill: colour }),
      element('text', { x: labelX + fontSize * 0.3, y: labelY + fontSize * 1.05, fill: textColour(colour) }, text),
    );
  }
  const svg = { xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${width} ${height}` };
  const font = {
    'font-family': 'DejaVu Sans, Arial, Helvetica, sans-serif',
    'font-size': fontSize,
    'font-weight': 'bold',
  };
  return [`<svg ${attributes(svg)}>`, `<g ${attributes(font)}>`, ...parts, '</g></svg>'].join('');
}

/** Output size: the oriented source scaled so its longest side is at most `maxPx`, never enlarged. */
export function snapshotSize(width: number, height: number, maxPx: number): { width: number; height: number } {
  const scale = Math.min(1, maxPx / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Draws the detections on the image and returns a JPEG no larger than the oriented source and with its longest
 * side at most `maxPx`. Undecodable input throws a permanent MEDIA_CORRUPT error, input over the pixel limit a
 * permanent MEDIA_TOO_LARGE one.
 */
export async function annotateSnapshot(
  image: Buffer,
  detections: readonly SnapshotDetection[],
  maxPx: number,
  options: SnapshotOptions = {},
): Promise<Buffer> {
  if (!Number.isInteger(maxPx) || maxPx < 1) {
    throw permanentError('INVALID_INPUT', `snapshot maxPx must be a positive integer, got ${maxPx}`);
  }
  const decoder = sharp(image, { failOn: 'truncated', limitInputPixels: options.maxPixels ?? true });
  try {
    const metadata: Metadata = await decoder.metadata();
    const oriented = metadata.autoOrient ?? metadata;
    if (!oriented.width || !oriented.height) throw new Error('image has no dimensions');
    const out = snapshotSize(oriented.width, oriented.height, maxPx);
    const scale = out.width / oriented.width;
    let pipeline = decoder.rotate();
    if (out.width !== oriented.width || out.height !== oriented.height) {
      pipeline = pipeline.resize(out.width, out.height, { fit: 'fill' });
    }
    if (detections.length > 0) {
      const svg = Buffer.from(overlaySvg(detections, out.width, out.height, scale));
      pipeline = pipeline.composite([{ input: svg, left: 0, top: 0 }]);
    }
    return await pipeline.jpeg({ quality: options.quality ?? 80 }).toBuffer();
  } catch (error) {
    const message = errorMessage(error);
    if (/pixel limit/i.test(message)) {
      throw permanentError('MEDIA_TOO_LARGE', `snapshot source is over the pixel limit: ${message}`, error);
    }
    throw permanentError('MEDIA_CORRUPT', `snapshot source cannot be decoded: ${message}`, error);
  }
}
