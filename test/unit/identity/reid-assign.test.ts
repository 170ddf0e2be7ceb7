import { describe, expect, it } from 'vitest';
import type { EntityCandidate } from '../../../src/features/identity/identity.repository.js';
import { assignEntities } from '../../../src/features/identity/reid.processor.js';
import { normalize } from '../../../src/features/identity/vectors.js';

const v = (...xs: number[]) => normalize(new Float32Array(xs));
const entity = (id: string, vector: Float32Array, memberId: number | null = null): EntityCandidate => ({
  id,
  vector,
  count: 3,
  memberId,
  cameras: ['door'],
  firstSeenAt: new Date(0),
  lastSeenAt: new Date(0),
});
const MATCHING = { entityThreshold: 0.6, memberThreshold: 0.7 };
const names = (m: Map<{ name: string }, { entity: EntityCandidate }>) =>
  Object.fromEntries([...m].map(([s, j]) => [s.name, j.entity.id]));

describe('assignEntities: one frame of sightings to the entities seen before', () => {
  it('pairs best first, so the first detection does not take the entity the second one matches better', () => {
    const a = entity('a', v(1, 0, 0));
    const b = entity('b', v(0.6, 0.8, 0));
    // The first person resembles both; the second is clearly b.
    const first = { name: 'first', vector: v(0.85, 0.5, 0), memberId: null };
    const second = { name: 'second', vector: v(0.62, 0.78, 0), memberId: null };
    expect(names(assignEntities([first, second], [a, b], MATCHING))).toStrictEqual({ first: 'a', second: 'b' });
  });

  it('never gives one entity to two people of the same frame', () => {
    const a = entity('a', v(1, 0));
    const twins = [
      { name: 'one', vector: v(1, 0.05), memberId: null },
      { name: 'two', vector: v(1, 0.1), memberId: null },
    ];
    expect(names(assignEntities(twins, [a], MATCHING))).toStrictEqual({ one: 'a' });
  });

  it("joins a member's entity only at the member threshold without a direct match, never with another member's", () => {
    const jane = entity('jane', v(1, 0), 1);
    const close = { name: 'close', vector: v(1, 0.9), memberId: null }; // cosine 0.74
    const lookalike = { name: 'lookalike', vector: v(1, 1.2), memberId: null }; // cosine 0.64
    const bob = { name: 'bob', vector: v(1, 0.1), memberId: 2 };
    const janeHerself = { name: 'jane', vector: v(1, 1.2), memberId: 1 };
    expect(names(assignEntities([close], [jane], MATCHING))).toStrictEqual({ close: 'jane' });
    expect(names(assignEntities([lookalike], [jane], MATCHING))).toStrictEqual({});
    expect(names(assignEntities([bob], [jane], MATCHING))).toStrictEqual({});
    expect(names(assignEntities([janeHerself], [jane], MATCHING))).toStrictEqual({ jane: 'jane' });
  });

  it("a member's sighting joins a stranger's unnamed entity only at the member threshold", () => {
    const strangers = entity('stranger', v(1, 0));
    expect(
      names(assignEntities([{ name: 'jane', vector: v(1, 1.2), memberId: 1 }], [strangers], MATCHING)),
    ).toStrictEqual({});
    expect(
      names(assignEntities([{ name: 'jane', vector: v(1, 0.3), memberId: 1 }], [strangers], MATCHING)),
    ).toStrictEqual({ jane: 'stranger' });
  });
});
