/**
 * Command payloads in JSON, from whichever channel (MQTT, the WebSocket): parsed behind a nesting limit, never
 * throwing, and with reasons that never quote the payload.
 */

export type Parsed<T> = ({ ok: true } & T) | { ok: false; reason: string };

/** Command payloads are flat objects; anything nested deeper than this is refused before JSON.parse sees it. */
export const MAX_JSON_DEPTH = 4;

/** True when objects/arrays nest deeper than `max` (strings skipped), found in one pass before parsing. */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** JSON.parse behind the nesting limit; the reason never quotes the payload. */
export function parseJson(text: string, hint: string): Parsed<{ value: unknown }> {
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    return { ok: false, reason: `payload nests deeper than ${MAX_JSON_DEPTH} levels; send ${hint}` };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, reason: `payload is not valid JSON; send ${hint}` };
  }
}
