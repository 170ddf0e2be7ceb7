/**
 * Vectors as the identity tables store them: little-endian float32 in a bytea, L2-normalised. Pure.
 */

/** The vector's bytes for a bytea column (a copy: the caller may reuse its array). */
export function vectorToBytes(vector: Float32Array): Uint8Array {
  const out = new Uint8Array(vector.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < vector.length; i++) view.setFloat32(i * 4, vector[i]!, true);
  return out;
}

/** A bytea column's vector (node-postgres gives a Buffer, PGlite a Uint8Array). */
export function bytesToVector(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new Error(`a stored vector has ${bytes.byteLength} bytes, not a multiple of 4`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** The vector scaled to length 1 (a zero vector stays zero). */
export function normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const v of vector) sum += v * v;
  const norm = Math.sqrt(sum);
  const out = new Float32Array(vector.length);
  if (norm === 0) return out;
  for (let i = 0; i < vector.length; i++) out[i] = vector[i]! / norm;
  return out;
}

/** Cosine similarity of two L2-normalised vectors of the same length (their dot product). */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`vectors of different lengths (${a.length} and ${b.length})`);
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
}

/** The normalised running mean after adding `next` to a mean of `count` normalised vectors. */
export function runningMean(mean: Float32Array, count: number, next: Float32Array): Float32Array {
  const out = new Float32Array(mean.length);
  for (let i = 0; i < mean.length; i++) out[i] = (mean[i]! * count + next[i]!) / (count + 1);
  return normalize(out);
}

export interface GalleryEntry<K> {
  key: K;
  vector: Float32Array;
}

/** The best-matching key of a gallery (several vectors may share a key) and its similarity; undefined: empty. */
export function bestMatch<K>(
  vector: Float32Array,
  gallery: Iterable<GalleryEntry<K>>,
): { key: K; similarity: number } | undefined {
  let best: { key: K; similarity: number } | undefined;
  for (const entry of gallery) {
    const similarity = cosine(vector, entry.vector);
    if (best === undefined || similarity > best.similarity) best = { key: entry.key, similarity };
  }
  return best;
}
