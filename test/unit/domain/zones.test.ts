import { describe, expect, it } from 'vitest';
import {
  bottomCentre,
  pointInZone,
  toZoneHit,
  validateZoneShape,
  type Zone,
  type ZoneShape,
  zonesHit,
} from '../../../src/domain/zones.js';

const rect: ZoneShape = { kind: 'rectangle', x: 0.25, y: 0.5, width: 0.5, height: 0.5 };
/** An L-shaped (concave) polygon: the top-right quarter of the unit square is cut away. */
const ell: ZoneShape = {
  kind: 'polygon',
  points: [
    [0, 0],
    [0.5, 0],
    [0.5, 0.5],
    [1, 0.5],
    [1, 1],
    [0, 1],
  ],
};

function zone(id: string, shape: ZoneShape, extra: Partial<Zone> = {}): Zone {
  return {
    id,
    cameraId: 'front_door',
    name: `Zone ${id}`,
    zoneType: 'entry_point',
    shape,
    color: '#ff0000',
    enabled: true,
    priority: 0,
    ...extra,
  };
}

describe('pointInZone', () => {
  it('treats a rectangle as inclusive of its border', () => {
    expect(pointInZone([0.5, 0.75], rect)).toBe(true);
    expect(pointInZone([0.25, 0.5], rect)).toBe(true);
    expect(pointInZone([0.75, 1], rect)).toBe(true);
    expect(pointInZone([0.2, 0.75], rect)).toBe(false);
    expect(pointInZone([0.5, 0.49], rect)).toBe(false);
  });

  it('handles a concave polygon, its notch and its border', () => {
    expect(pointInZone([0.25, 0.25], ell)).toBe(true);
    expect(pointInZone([0.75, 0.75], ell)).toBe(true);
    expect(pointInZone([0.75, 0.25], ell)).toBe(false);
    expect(pointInZone([0.5, 0.25], ell)).toBe(true);
    expect(pointInZone([0.75, 0.5], ell)).toBe(true);
    expect(pointInZone([1, 1], ell)).toBe(true);
  });
});

describe('bottomCentre and zonesHit', () => {
  it('uses the bottom-centre of the box in normalised coordinates', () => {
    expect(bottomCentre({ x: 100, y: 200, width: 200, height: 400 }, 800, 600)).toStrictEqual([0.25, 1]);
    expect(bottomCentre({ x: 700, y: 500, width: 400, height: 300 }, 800, 600)).toStrictEqual([1, 1]);
  });

  it('rejects a zero image size', () => {
    expect(() => bottomCentre({ x: 0, y: 0, width: 1, height: 1 }, 0, 600)).toThrowError(/image size must be positive/);
  });

  it('matches a box whose feet are in the zone even when its top is not', () => {
    // Box spans y 0..420 of 600: the head is far above the rectangle, the feet (0.5, 0.7) are inside.
    const box = { x: 350, y: 0, width: 100, height: 420 };
    expect(zonesHit(box, 800, 600, [zone('porch', rect)]).map((z) => z.id)).toStrictEqual(['porch']);
    // Same box shifted up: centre is in the rectangle's column but the feet (y 0.45) are not.
    expect(zonesHit({ ...box, height: 270 }, 800, 600, [zone('porch', rect)])).toStrictEqual([]);
  });

  it('skips disabled zones and orders hits by priority, then id', () => {
    const zones = [
      zone('b', rect, { priority: 1 }),
      zone('a', rect, { priority: 1 }),
      zone('high', ell, { priority: 5 }),
      zone('off', rect, { enabled: false, priority: 9 }),
    ];
    const hits = zonesHit({ x: 350, y: 300, width: 100, height: 150 }, 800, 600, zones);
    expect(hits.map((z) => z.id)).toStrictEqual(['high', 'a', 'b']);
    expect(toZoneHit(hits[0]!, true)).toStrictEqual({
      id: 'high',
      name: 'Zone high',
      zoneType: 'entry_point',
      armed: true,
    });
  });
});

describe('validateZoneShape', () => {
  it('accepts a valid rectangle and polygon, returning clean copies', () => {
    expect(validateZoneShape({ kind: 'rectangle', x: 0, y: 0, width: 1, height: 1, extra: 1 })).toStrictEqual({
      ok: true,
      shape: { kind: 'rectangle', x: 0, y: 0, width: 1, height: 1 },
    });
    expect(validateZoneShape(ell)).toStrictEqual({ ok: true, shape: ell });
  });

  it('names each bad field', () => {
    expect(validateZoneShape({ kind: 'rectangle', x: -0.1, y: 0, width: 'wide', height: 0.5 })).toStrictEqual({
      ok: false,
      errors: [
        'shape.x must be a number between 0 and 1, got -0.1',
        'shape.width must be a number between 0 and 1, got "wide"',
      ],
    });
    expect(validateZoneShape({ kind: 'rectangle', x: 0.6, y: 0.2, width: 0.5, height: 0 })).toStrictEqual({
      ok: false,
      errors: ['shape.height must be greater than 0', 'shape.x + shape.width must not exceed 1 (got 1.1)'],
    });
  });

  it('rejects unknown kinds and non-objects', () => {
    expect(validateZoneShape({ kind: 'circle' })).toStrictEqual({
      ok: false,
      errors: ['shape.kind must be "rectangle" or "polygon", got "circle"'],
    });
    expect(validateZoneShape(null, 'zones[2].shape')).toStrictEqual({
      ok: false,
      errors: ['zones[2].shape must be an object with kind "rectangle" or "polygon"'],
    });
  });

  it('rejects polygons with too few points, bad points, no area or crossing edges', () => {
    expect(
      validateZoneShape({
        kind: 'polygon',
        points: [
          [0, 0],
          [1, 1],
        ],
      }),
    ).toStrictEqual({
      ok: false,
      errors: ['shape.points must have 3 to 100 points, got 2'],
    });
    expect(validateZoneShape({ kind: 'polygon', points: [[0, 0], [1], [0.5, 2]] })).toStrictEqual({
      ok: false,
      errors: ['shape.points[1] must be an [x, y] pair', 'shape.points[2][1] must be a number between 0 and 1, got 2'],
    });
    expect(
      validateZoneShape({
        kind: 'polygon',
        points: [
          [0, 0],
          [0.5, 0.5],
          [1, 1],
        ],
      }),
    ).toStrictEqual({
      ok: false,
      errors: ['shape.points enclose no area'],
    });
    const bowTie = {
      kind: 'polygon',
      points: [
        [0, 0],
        [1, 1],
        [1, 0],
        [0, 0.8],
      ],
    };
    expect(validateZoneShape(bowTie)).toStrictEqual({
      ok: false,
      errors: ['shape.points edges 0 and 2 cross; list the points in drawing order'],
    });
  });
});
