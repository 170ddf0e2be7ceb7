import type { Config } from './schema.js';
import { isPlainObject } from './walk.js';

export const REDACTED = '[redacted]';

/** Keys whose values are secrets wherever they appear (`password`, `mqtt.password`, `analysis.api_key`, ...). */
const SECRET_KEY = /pass(word|wd)?$|secret|token|api_?key|credential|private_key|alarm_code/i;
/** `scheme://user:password@` (the password part is captured). */
const URL_CREDENTIALS = /^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*):([^/?#]*)@/i;
/** `?password=…` / `&api_key=…` style query parameters. */
const QUERY_SECRET = /([?&;](?:[^=&#;]*(?:pass(?:word|wd)?|secret|token|api_?key|key)))=([^&#;]*)/gi;

/** A copy of the configuration safe to log: secret keys masked, credentials removed from URLs. */
export function redactConfig(config: Config): Config {
  return redactSecrets(config) as Config;
}

/** Redacts any JSON-like value (nested objects and arrays); the input is never modified. */
export function redactSecrets(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, key));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [name, child] of Object.entries(value)) out[name] = redactSecrets(child, name);
    return out;
  }
  if (typeof value !== 'string') return value;
  if (SECRET_KEY.test(key) && value !== '') return REDACTED;
  return redactUrl(value);
}

/** Masks the password of `scheme://user:password@host` and secret query parameters; other text is unchanged. */
export function redactUrl(text: string): string {
  return text.replace(URL_CREDENTIALS, `$1:${REDACTED}@`).replace(QUERY_SECRET, `$1=${REDACTED}`);
}
