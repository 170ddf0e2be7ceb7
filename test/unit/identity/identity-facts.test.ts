import { describe, expect, it } from 'vitest';
import { applyScoreHints } from '../../../src/domain/facts.js';
import type { MemberInfo, PersonSighting } from '../../../src/features/identity/identity.repository.js';
import { type IdentityFactInput, identityFacts } from '../../../src/features/identity/identity-facts.js';
import { normalize } from '../../../src/features/identity/vectors.js';
import { visitPeople } from '../../../src/features/identity/visit-people.js';

const v = (...xs: number[]) => normalize(new Float32Array(xs));

const at = new Date('2026-01-07T02:00:00Z'); // Wednesday 03:00 in Berlin

const box = { x: 100, y: 50, width: 80, height: 200 };
const sighting = (overrides: Partial<PersonSighting> = {}): PersonSighting => ({
  detectionId: 1,
  frameIndex: null,
  mediaFileId: 10,
  cameraId: 'door',
  detectedAt: at,
  bbox: box,
  vector: v(1, 0, 0),
  appearanceMemberId: null,
  appearanceSimilarity: null,
  face: null,
  entityId: null,
  entitySimilarity: null,
  entityMemberId: null,
  journey: null,
  zoneIds: [],
  ...overrides,
});

const THRESHOLDS = { member: 0.7, entity: 0.6 };
const JANE_FACE = v(0, 1, 0);
const JANE: MemberInfo = {
  id: 1,
  name: 'Jane',
  trust: 'full',
  schedule: null,
  faceVectors: [{ modelId: 'face@1', vector: JANE_FACE }],
};
/** Jane's appearance matched directly, on her entity. */
const jane = { appearanceMemberId: 1, appearanceSimilarity: 0.93, entityId: 'e-jane', entityMemberId: 1 };
/** A good face of `vector`, matched to nobody named (or to `named`). */
const face = (vector: Float32Array, named?: { personId: number; memberId: number | null; similarity: number }) => ({
  namedPersonId: named?.personId ?? null,
  namedMemberId: named?.memberId ?? null,
  similarity: named?.similarity ?? null,
  modelId: 'face@1',
  vector,
});
const visit = (sightings: PersonSighting[], members: MemberInfo[] = [JANE]) => ({
  sightings,
  members: new Map(members.map((m) => [m.id, m])),
});
const people = (sightings: PersonSighting[], members?: MemberInfo[]) =>
  visitPeople(visit(sightings, members), THRESHOLDS);

describe('visitPeople', () => {
  it('counts people per frame, not per clip frame, and a stranger beside a member stays unknown', () => {
    const seen = people([
      sighting({ detectionId: 1, frameIndex: 0, ...jane }),
      sighting({ detectionId: 2, frameIndex: 0, entityId: 'e-x', bbox: { ...box, x: 400 } }),
      sighting({ detectionId: 3, frameIndex: 1, ...jane }),
    ]);
    expect(seen.persons).toBe(2);
    expect(seen.unknown).toBe(1);
    expect(seen.members.map((m) => m.name)).toStrictEqual(['Jane']);
    expect(seen.unknownEntities).toStrictEqual(['e-x']);
  });

  it('a sighting that joined her entity at the member threshold is her; below it, on its own, it is not', () => {
    const behind = sighting({ entityId: 'e-jane', entityMemberId: 1, entitySimilarity: 0.74 });
    expect(people([behind]).unknown).toBe(0);
    // A stranger who resembles her at the same-person threshold (0.6) does not inherit her name.
    const lookalike = sighting({ entityId: 'e-jane', entityMemberId: 1, entitySimilarity: 0.64 });
    expect(people([lookalike])).toMatchObject({ unknown: 1, members: [] });
  });

  it('her back in the next frame of the clip, at the same place and the same person by appearance, is still her', () => {
    const seen = people([
      sighting({ detectionId: 1, frameIndex: 0, ...jane }),
      sighting({ detectionId: 2, frameIndex: 1, vector: v(1, 0.9, 0), bbox: { ...box, x: 110 }, entityId: 'e-back' }),
    ]);
    expect(seen).toMatchObject({ persons: 1, unknown: 0, members: [{ name: 'Jane' }] });
    // Somewhere else in the picture, or someone else by appearance: not carried along.
    const elsewhere = people([
      sighting({ detectionId: 1, frameIndex: 0, ...jane }),
      sighting({ detectionId: 2, frameIndex: 1, vector: v(1, 0.9, 0), bbox: { ...box, x: 400 } }),
    ]);
    expect(elsewhere.unknown).toBe(1);
    const other = people([
      sighting({ detectionId: 1, frameIndex: 0, ...jane }),
      sighting({ detectionId: 2, frameIndex: 1, vector: v(0, 0, 1), bbox: { ...box, x: 110 } }),
    ]);
    expect(other.unknown).toBe(1);
  });

  it('her face on someone says otherwise: another named person, or far from her own face', () => {
    const bob = face(v(0, 0, 1), { personId: 7, memberId: null, similarity: 0.9 });
    expect(people([sighting({ ...jane, face: bob })])).toMatchObject({ unknown: 1, members: [] });
    expect(people([sighting({ ...jane, face: face(v(1, 0, 0)) })])).toMatchObject({ unknown: 1, members: [] });
    // A face in the grey zone says nothing; enrolled without a face, her appearance is all HSI knows.
    expect(people([sighting({ ...jane, face: face(v(0.8, 1, 0)) })]).unknown).toBe(0);
    expect(people([sighting({ ...jane, face: face(v(1, 0, 0)) })], [{ ...JANE, faceVectors: [] }]).unknown).toBe(0);
  });

  it('a member counts once per frame: a second person in her uniform is unknown', () => {
    const gardener = { ...jane, entityId: null, entityMemberId: null };
    const seen = people([
      sighting({ detectionId: 1, frameIndex: 0, ...gardener, appearanceSimilarity: 0.86 }),
      sighting({ detectionId: 2, frameIndex: 0, ...gardener, appearanceSimilarity: 0.82, bbox: { ...box, x: 400 } }),
    ]);
    expect(seen).toMatchObject({ persons: 2, unknown: 1, members: [{ name: 'Jane', similarity: 0.86 }] });
  });

  it('a face match names the member even when the appearance did not match', () => {
    const seen = people([sighting({ face: face(JANE_FACE, { personId: 3, memberId: 1, similarity: 0.81 }) })]);
    expect(seen.members).toMatchObject([{ name: 'Jane', via: 'face', similarity: 0.81 }]);
  });

  it('keeps the journey that crossed the most cameras', () => {
    const steps = [
      { camera_id: 'door', at: at.toISOString() },
      { camera_id: 'drive', at: at.toISOString() },
    ];
    const seen = people([
      sighting({ journey: { id: 'j1', cameras: ['door'], steps: steps.slice(0, 1) } }),
      sighting({ detectionId: 2, journey: { id: 'j2', cameras: ['door', 'drive'], steps } }),
    ]);
    expect(seen.journey?.id).toBe('j2');
  });
});

const input = (
  sightings: PersonSighting[],
  overrides: Partial<IdentityFactInput> = {},
  members: MemberInfo[] = [JANE],
): IdentityFactInput => ({
  people: people(sightings, members),
  at,
  timeZone: 'Europe/Berlin',
  night: true,
  armed: false,
  zonePermissions: new Map(),
  history: [],
  ...overrides,
});

describe('identityFacts', () => {
  it('a trusted member alone caps the score at low and names her in the prompt', () => {
    const facts = identityFacts(input([sighting(jane)]));
    expect(facts[0]?.people).toStrictEqual({ unknown: 0, members: [{ id: 1, trusted: true }] });
    expect(facts[0]?.promptLines?.[1]).toBe(
      '- "Jane" (full trust, by appearance, similarity 0.93): within their usual hours',
    );
    expect(applyScoreHints(55, facts).score).toBe(29);
    // Critical is never talked down.
    expect(applyScoreHints(90, facts).score).toBe(90);
  });

  it('an unknown person beside her: no cap, and +15 at night', () => {
    const facts = identityFacts(input([sighting(jane), sighting({ detectionId: 2, entityId: 'e-x' })]));
    expect(applyScoreHints(40, facts)).toStrictEqual({
      score: 55,
      applied: [{ label: 'an unknown person at night', points: 15 }],
    });
  });

  it('outside her schedule she is noted and lowers nothing', () => {
    const daytime = [{ start: '08:00', end: '20:00' }];
    const facts = identityFacts(input([sighting(jane)], {}, [{ ...JANE, schedule: daytime }]));
    expect(facts[0]?.promptLines?.[1]).toContain('OUTSIDE their usual hours');
    expect(facts[0]?.people?.members).toStrictEqual([{ id: 1, trusted: false }]);
    expect(applyScoreHints(40, facts).score).toBe(40);
  });

  it('a zone that admits others only makes her untrusted there', () => {
    const facts = identityFacts(
      input([sighting({ ...jane, zoneIds: ['garden'] })], {
        zonePermissions: new Map([['garden', [{ memberId: 2, schedule: null }]]]),
      }),
    );
    expect(facts[0]?.promptLines?.[1]).toContain('in garden, where not allowed now');
    expect(facts[0]?.people?.members[0]?.trusted).toBe(false);
  });

  it('a returning unknown visitor at night raises further; by day only the prompt says so', () => {
    const history = [{ entityId: 'e-x', visits: 4, lastAt: new Date('2026-01-06T13:02:00Z'), cameras: ['door'] }];
    const night = identityFacts(input([sighting({ entityId: 'e-x' })], { history }));
    expect(applyScoreHints(30, night).applied.map((a) => a.points)).toStrictEqual([15, 10]);
    expect(night[0]?.promptLines).toContain(
      '- returning visitor: seen in 4 other visits in the last 7 days, last Tue 14:02 (cameras: door)',
    );
    const day = identityFacts(input([sighting({ entityId: 'e-x' })], { history, night: false }));
    expect(applyScoreHints(30, day).applied).toStrictEqual([]);
  });

  it('partial trust takes 15 points off; monitor moves nothing', () => {
    const partial = identityFacts(input([sighting(jane)], {}, [{ ...JANE, trust: 'partial' }]));
    expect(applyScoreHints(50, partial).score).toBe(35);
    const monitor = identityFacts(input([sighting(jane)], {}, [{ ...JANE, trust: 'monitor' }]));
    expect(applyScoreHints(50, monitor).score).toBe(50);
  });

  it('says nothing about a visit without people', () => {
    expect(identityFacts(input([]))).toStrictEqual([]);
  });
});
