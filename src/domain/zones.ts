import { AppError } from '../lib/errors.js';
import type { BBox } from './detection.js';

/**
 * Camera zones: areas of a camera's picture in normalised coordinates (0..1, origin top-left, x to the right,
 * y down), so they survive a change of resolution. A detection is in a zone when the BOTTOM-CENTRE of its box
 * (where a person stands or a car touches the ground) lies inside the zone; points on the border count as
 * inside. Fields mirror the `camera_zones` table (camelCase here).
 */

export const ZONE_TYPES = ['entry_point', 'driveway', 'sidewalk', 'yard', 'other'] as const;
export type ZoneType = (typeof ZONE_TYPES)[number];

export type NormalisedPoint = readonly [x: number, y: number];

export type ZoneShape =
  | {
      readonly kind: 'rectangle';
      readonly x: number;
      readonly y: number;
      readonly width: number;
      readonly height: number;
    }
  | { readonly kind: 'polygon'; readonly points: readonly NormalisedPoint[] };

export interface Zone {
  id: string;
  cameraId: string;
  name: string;
  zoneType: ZoneType;
  shape: ZoneShape;
  /** Display colour, `#rrggbb`. */
  color: string;
  enabled: boolean;
  /** Higher first when several zones are hit. */
  priority: number;
}

/** A zone an event touched, as the scorer, the prompt and the alert rules see it. */
export interface ZoneHit {
  id: string;
  name: string;
  zoneType: ZoneType;
  /** The zone's arming switch; armed for real only while the house is armed (see arming.ts). */
  armed: boolean;
}

export const MAX_POLYGON_POINTS = 100;
const MIN_POLYGON_AREA = 1e-6;

export function isZoneType(value: unknown): value is ZoneType {
  return typeof value === 'string' && (ZONE_TYPES as readonly string[]).includes(value);
}

export type ZoneShapeValidation = { ok: true; shape: ZoneShape } | { ok: false; errors: string[] };

/** Checks an untrusted shape (API body, database JSON). Errors name the field, e.g. `shape.points[2][0]`. */
export function validateZoneShape(value: unknown, field = 'shape'): ZoneShapeValidation {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, errors: [`${field} must be an object with kind "rectangle" or "polygon"`] };
  }
  const record = value as Record<string, unknown>;
  if (record.kind === 'rectangle') return validateRectangle(record, field);
  if (record.kind === 'polygon') return validatePolygon(record.points, field);
  return { ok: false, errors: [`${field}.kind must be "rectangle" or "polygon", got ${JSON.stringify(record.kind)}`] };
}

function unitError(value: unknown, field: string): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    return `${field} must be a number between 0 and 1, got ${JSON.stringify(value) ?? String(value)}`;
  }
  return undefined;
}

function validateRectangle(record: Record<string, unknown>, field: string): ZoneShapeValidation {
  const errors: string[] = [];
  for (const key of ['x', 'y', 'width', 'height'] as const) {
    const error = unitError(record[key], `${field}.${key}`);
    if (error !== undefined) errors.push(error);
  }
  if (errors.length > 0) return { ok: false, errors };
  const { x, y, width, height } = record as { x: number; y: number; width: number; height: number };
  if (width <= 0) errors.push(`${field}.width must be greater than 0`);
  if (height <= 0) errors.push(`${field}.height must be greater than 0`);
  if (x + width > 1 + 1e-9) errors.push(`${field}.x + ${field}.width must not exceed 1 (got ${x + width})`);
  if (y + height > 1 + 1e-9) errors.push(`${field}.y + ${field}.height must not exceed 1 (got ${y + height})`);
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, shape: { kind: 'rectangle', x, y, width, height } };
}

function validatePolygon(points: unknown, field: string): ZoneShapeValidation {
  if (!Array.isArray(points)) return { ok: false, errors: [`${field}.points must be an array of [x, y] pairs`] };
  if (points.length < 3 || points.length > MAX_POLYGON_POINTS) {
    return {
      ok: false,
      errors: [`${field}.points must have 3 to ${MAX_POLYGON_POINTS} points, got ${points.length}`],
    };
  }
  const errors: string[] = [];
  points.forEach((point: unknown, i) => {
    if (!Array.isArray(point) || point.length !== 2) {
      errors.push(`${field}.points[${i}] must be an [x, y] pair`);
      return;
    }
    for (const [axis, coordinate] of point.entries()) {
      const error = unitError(coordinate, `${field}.points[${i}][${axis}]`);
      if (error !== undefined) errors.push(error);
    }
  });
  if (errors.length > 0) return { ok: false, errors };
  const pairs = points.map((p: [number, number]) => [p[0], p[1]] as const);
  if (Math.abs(polygonArea(pairs)) < MIN_POLYGON_AREA) errors.push(`${field}.points enclose no area`);
  const crossing = firstSelfIntersection(pairs);
  if (crossing !== undefined) {
    errors.push(`${field}.points edges ${crossing[0]} and ${crossing[1]} cross; list the points in drawing order`);
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, shape: { kind: 'polygon', points: pairs } };
}

/** Signed area (shoelace). */
function polygonArea(points: readonly NormalisedPoint[]): number {
  let sum = 0;
  for (let i = 0; i < points.length; i++) {
    const [x1, y1] = points[i]!;
    const [x2, y2] = points[(i + 1) % points.length]!;
    sum += x1 * y2 - x2 * y1;
  }
  return sum / 2;
}

function cross(o: NormalisedPoint, a: NormalisedPoint, b: NormalisedPoint): number {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

function segmentsProperlyCross(a: NormalisedPoint, b: NormalisedPoint, c: NormalisedPoint, d: NormalisedPoint) {
  const d1 = cross(c, d, a);
  const d2 = cross(c, d, b);
  const d3 = cross(a, b, c);
  const d4 = cross(a, b, d);
  return d1 * d2 < 0 && d3 * d4 < 0;
}

/** Indices of the first two non-adjacent edges that cross, edge i running from point i to point i+1. */
function firstSelfIntersection(points: readonly NormalisedPoint[]): [number, number] | undefined {
  const n = points.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 2; j < n; j++) {
      if (i === 0 && j === n - 1) continue;
      if (segmentsProperlyCross(points[i]!, points[(i + 1) % n]!, points[j]!, points[(j + 1) % n]!)) return [i, j];
    }
  }
  return undefined;
}

function onSegment(p: NormalisedPoint, a: NormalisedPoint, b: NormalisedPoint): boolean {
  if (Math.abs(cross(a, b, p)) > 1e-12) return false;
  return (
    p[0] >= Math.min(a[0], b[0]) - 1e-12 &&
    p[0] <= Math.max(a[0], b[0]) + 1e-12 &&
    p[1] >= Math.min(a[1], b[1]) - 1e-12 &&
    p[1] <= Math.max(a[1], b[1]) + 1e-12
  );
}

/** Whether a normalised point lies in a shape; the border counts as inside. */
export function pointInZone(point: NormalisedPoint, shape: ZoneShape): boolean {
  const [px, py] = point;
  if (shape.kind === 'rectangle') {
    return px >= shape.x && px <= shape.x + shape.width && py >= shape.y && py <= shape.y + shape.height;
  }
  const pts = shape.points;
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const a = pts[i]!;
    const b = pts[j]!;
    if (onSegment(point, a, b)) return true;
    if (a[1] > py !== b[1] > py && px < ((b[0] - a[0]) * (py - a[1])) / (b[1] - a[1]) + a[0]) inside = !inside;
  }
  return inside;
}

/** The bottom-centre of a pixel box, normalised and clamped into the picture. */
export function bottomCentre(bbox: BBox, imageWidth: number, imageHeight: number): NormalisedPoint {
  if (!(imageWidth > 0) || !(imageHeight > 0)) {
    throw new AppError('INVALID_INPUT', `image size must be positive, got ${imageWidth}x${imageHeight}`, {
      permanent: true,
    });
  }
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  return [clamp((bbox.x + bbox.width / 2) / imageWidth), clamp((bbox.y + bbox.height) / imageHeight)];
}

/** Enabled zones whose shape holds the box's bottom-centre, highest priority first (then by id). */
export function zonesHit(bbox: BBox, imageWidth: number, imageHeight: number, zones: readonly Zone[]): Zone[] {
  const point = bottomCentre(bbox, imageWidth, imageHeight);
  return zones
    .filter((zone) => zone.enabled && pointInZone(point, zone.shape))
    .sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The facts about a hit zone that analysis and alert rules need, with the zone's arming switch. */
export function toZoneHit(zone: Zone, armedSwitch: boolean): ZoneHit {
  return { id: zone.id, name: zone.name, zoneType: zone.zoneType, armed: armedSwitch };
}
