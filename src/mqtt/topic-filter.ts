/**
 * MQTT topic rules (MQTT 3.1.1 §4.7), pure: which topics may be published to, which filters may be subscribed to,
 * and whether a filter matches a topic (for dispatching messages to local handlers).
 */

/** Longest topic the protocol can carry (a 2-byte length prefix), in UTF-8 bytes. */
const MAX_TOPIC_BYTES = 65_535;

/** Why `topic` cannot be published to, or undefined when it can. */
export function publishTopicProblem(topic: unknown): string | undefined {
  if (typeof topic !== 'string' || topic.length === 0) return 'the topic is empty';
  if (topic.includes('+') || topic.includes('#')) return 'wildcards (+ or #) are not allowed in a topic to publish to';
  if (topic.includes('\u0000')) return 'the topic contains a NUL character';
  if (Buffer.byteLength(topic, 'utf8') > MAX_TOPIC_BYTES) return `the topic is longer than ${MAX_TOPIC_BYTES} bytes`;
  return undefined;
}

/** Why `filter` cannot be subscribed to, or undefined when it can. */
export function topicFilterProblem(filter: unknown): string | undefined {
  if (typeof filter !== 'string' || filter.length === 0) return 'the filter is empty';
  if (filter.includes('\u0000')) return 'the filter contains a NUL character';
  if (Buffer.byteLength(filter, 'utf8') > MAX_TOPIC_BYTES) return `the filter is longer than ${MAX_TOPIC_BYTES} bytes`;
  const levels = filter.split('/');
  for (const [i, level] of levels.entries()) {
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return "'#' must be a whole level and the last one";
    }
    if (level.includes('+') && level !== '+') return "'+' must be a whole level";
  }
  return undefined;
}

/**
 * True when `topic` matches `filter`: `+` matches exactly one level, a trailing `#` matches the parent level and
 * any number of levels below it. Wildcards at the first level never match topics that start with `$`.
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}
