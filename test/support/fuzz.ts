/**
 * Seeded random inputs for the fuzz tests: the same seed always yields the same sequence, so a failure is replayed
 * by running the test again (the seed is printed). No network, no clock.
 */

/** mulberry32: small, fast, good enough to spread fuzz cases. */
export class Prng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** 0 <= x < 1. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(0, 255);
    return out;
  }
}

/** Characters that break naive code: quotes, escapes, controls, RTL marks, emoji, CJK, combining marks, NUL. */
const NASTY = [
  '"',
  "'",
  '\\',
  '\n',
  '\t',
  '\u0000',
  '\u202e',
  '\u200b',
  '😀',
  '漢',
  'é',
  'e\u0301',
  '%',
  '{',
  '}',
  '/',
];

/** SQL, path, template and markup fragments that must stay plain data. */
export const INJECTIONS = [
  "' OR '1'='1",
  '1; DROP TABLE events; --',
  "'); DELETE FROM alerts; --",
  '../../../../etc/passwd',
  '%00',
  '{{7*7}}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, meant literally
  '${process.exit(1)}',
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  'NaN',
  'null',
  '-0',
  '1e309',
];

/** A string of up to `maxLen` characters mixing ASCII, nasty characters and injections (lone surrogates too). */
export function randomString(rng: Prng, maxLen: number): string {
  const len = rng.int(0, maxLen);
  let out = '';
  while (out.length < len) {
    const r = rng.next();
    if (r < 0.5) out += String.fromCharCode(rng.int(0x20, 0x7e));
    else if (r < 0.75) out += rng.pick(NASTY);
    else if (r < 0.85) out += rng.pick(INJECTIONS);
    else if (r < 0.95) out += String.fromCodePoint(rng.int(0xa0, 0x2fff));
    else out += String.fromCharCode(rng.int(0xd800, 0xdfff));
  }
  return out.slice(0, Math.max(len, 0));
}

/** Numbers at the edges: huge, negative, fractional, exponent forms, unsafe integers. */
export function randomNumber(rng: Prng): number {
  return rng.pick([
    0,
    -1,
    1,
    rng.int(-1000, 1000),
    rng.next(),
    -rng.next() * 1e6,
    2 ** 31,
    2 ** 53 + 1,
    -(2 ** 63),
    1e308,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
  ]);
}

/** A random JSON value nested at most `depth` deep. */
export function randomJson(rng: Prng, depth: number): unknown {
  const kind = rng.int(0, depth > 0 ? 6 : 4);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return randomNumber(rng);
    case 3:
    case 4:
      return randomString(rng, 40);
    case 5:
      return Array.from({ length: rng.int(0, 5) }, () => randomJson(rng, depth - 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = rng.int(0, 5); i > 0; i--) out[randomString(rng, 12)] = randomJson(rng, depth - 1);
      return out;
    }
  }
}

/** `levels` of `[`…`]` (or of `{"a":`…`}`): far deeper than any parser limit. */
export function deeplyNested(levels: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(levels)}${']'.repeat(levels)}`
    : `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

/** A command payload of one of the hostile shapes; `fields` are the names the real commands use. */
export function fuzzPayload(rng: Prng, fields: readonly string[], maxBytes: number): string | Buffer {
  const shape = rng.int(0, 11);
  switch (shape) {
    case 0:
      return JSON.stringify(randomJson(rng, 3));
    case 1: {
      // The real field names with values of the wrong type (or the right type and a wrong value).
      const out: Record<string, unknown> = {};
      for (const field of fields) if (rng.chance(0.7)) out[field] = randomJson(rng, 2);
      return JSON.stringify(out);
    }
    case 2:
      return randomString(rng, 200);
    case 3:
      return rng.bytes(rng.int(1, 512));
    case 4:
      return deeplyNested(rng.int(5, 50_000), rng.pick(['array', 'object'] as const));
    case 5:
      return JSON.stringify({ [rng.pick(fields)]: 'x'.repeat(rng.int(1000, 100_000)) });
    case 6:
      return rng.pick(['', ' ', 'null', 'true', '0', '[]', '{}', '""', '"ON"', 'ON!', 'OFFF', 'ARM', '{"action":']);
    case 7:
      return rng.pick(INJECTIONS);
    case 8:
      // Exactly at the size limit or just over it (rarely: they are big), else just under a small one.
      return rng.chance(0.2)
        ? Buffer.alloc(maxBytes + rng.int(0, 1), rng.pick([0x20, 0x7b, 0x5b, 0x41, 0xff]))
        : Buffer.alloc(rng.int(1, 4096), rng.pick([0x20, 0x7b, 0x5b, 0x41, 0xff]));
    case 9:
      return JSON.stringify(randomJson(rng, 3)).slice(0, -1);
    case 10:
      return Buffer.concat([Buffer.from('{"id":"'), rng.bytes(16), Buffer.from('"}')]);
    default:
      return `${rng.pick(['on', 'off', 'arm_away', 'DISARM'])}${randomString(rng, 3)}x`;
  }
}
