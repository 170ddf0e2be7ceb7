import { createHash, timingSafeEqual } from 'node:crypto';
import { Ajv, type ErrorObject } from 'ajv';
import { type Parsed, parseJson } from '../commands/json.js';
import type { AlertTarget } from '../commands/types.js';

export type { Parsed } from '../commands/json.js';
export { MAX_JSON_DEPTH, nestsDeeperThan, parseJson } from '../commands/json.js';
export type { AlertTarget } from '../commands/types.js';

/**
 * MQTT command payloads, pure: decoding, JSON with a nesting limit (`src/commands/json.ts`), ajv schemas, the alarm panel's two payload
 * forms and the switches' ON/OFF. Every parser returns a result instead of throwing; a refusal's reason names the
 * field. Alarm reasons never repeat anything from the payload, so a code typed into the wrong field cannot reach
 * a log line or the audit trail.
 */

const MAX_TRANSACTION_CHARS = 256;
const MAX_ECHO_CHARS = 40;

export const ALARM_ACTIONS = ['DISARM', 'ARM_HOME', 'ARM_AWAY', 'ARM_NIGHT'] as const;
export type AlarmAction = (typeof ALARM_ACTIONS)[number];

export type Transaction = string | number;

const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

interface AlertPayload {
  id?: string;
  all?: true;
  transaction?: Transaction;
}

interface AlarmPayload {
  action: string;
  code?: string;
}

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });

const validateAlertPayload = ajv.compile<AlertPayload>({
  type: 'object',
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: UUID },
    all: { const: true },
    transaction: { type: ['string', 'number'], maxLength: MAX_TRANSACTION_CHARS },
  },
});

const validateAlarmPayload = ajv.compile<AlarmPayload>({
  type: 'object',
  additionalProperties: false,
  required: ['action'],
  properties: {
    action: { type: 'string' },
    code: { type: 'string', maxLength: 256 },
  },
});

const HINTS: Record<string, string> = { id: 'an alert uuid', all: 'true' };

function echo(value: unknown): string {
  const text = String(value);
  return JSON.stringify(text.length > MAX_ECHO_CHARS ? `${text.slice(0, MAX_ECHO_CHARS)}…` : text);
}

function describeError(e: ErrorObject, echoNames: boolean): string {
  const field = e.instancePath === '' ? 'payload' : e.instancePath.slice(1).replaceAll('/', '.');
  switch (e.keyword) {
    case 'additionalProperties':
      return echoNames ? `unknown field ${echo(e.params.additionalProperty)}` : 'the payload has an unknown field';
    case 'required':
      return `${String(e.params.missingProperty)} is missing`;
    case 'type': {
      const types = [e.params.type as string | string[]].flat();
      return `${field} must be ${types.map((t) => (t === 'object' ? 'a JSON object' : `a ${t}`)).join(' or ')}`;
    }
    case 'pattern':
    case 'const':
      return `${field} must be ${HINTS[field] ?? e.message}`;
    case 'maxLength':
      return `${field} must be at most ${String(e.params.limit)} characters`;
    default:
      return `${field} ${e.message ?? 'is invalid'}`;
  }
}

function describeErrors(errors: readonly ErrorObject[] | null | undefined, echoNames: boolean): string {
  return [...new Set((errors ?? []).map((e) => describeError(e, echoNames)))].join('; ');
}

/** The payload as text; undefined when it is not valid UTF-8. */
export function decodeUtf8(payload: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(payload);
  } catch {
    return undefined;
  }
}

/** The `transaction` to echo, when the payload is an object carrying a usable one (even if the rest is invalid). */
export function transactionOf(value: unknown): Transaction | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const t = (value as Record<string, unknown>).transaction;
  if (typeof t === 'number' && Number.isFinite(t)) return t;
  if (typeof t === 'string' && t.length <= MAX_TRANSACTION_CHARS) return t;
  return undefined;
}

export const ALERT_PAYLOAD_HINT = '{"id": "<alert uuid>"} or {"all": true}';

/** `{"id": "<uuid>"}` or `{"all": true}`, optional `transaction`, nothing else. */
export function parseAlertTarget(value: unknown): Parsed<{ target: AlertTarget }> {
  if (!validateAlertPayload(value)) return { ok: false, reason: describeErrors(validateAlertPayload.errors, true) };
  const hasId = value.id !== undefined;
  if (hasId === (value.all === true)) {
    return { ok: false, reason: `payload needs exactly one of "id" or "all": send ${ALERT_PAYLOAD_HINT}` };
  }
  return { ok: true, target: value.id !== undefined ? { id: value.id.toLowerCase() } : { all: true } };
}

const ALARM_HINT = `one of ${ALARM_ACTIONS.join(', ')}, or {"action": "<ACTION>", "code": "<code>"}`;

function alarmAction(text: string): AlarmAction | undefined {
  const upper = text.trim().toUpperCase();
  return ALARM_ACTIONS.find((a) => a === upper);
}

/**
 * The alarm panel's command. Plain text `ARM_AWAY` (no code configured), or the JSON that Home Assistant's
 * `command_template: '{"action": "{{ action }}", "code": "{{ code }}"}'` renders when a code is asked for.
 * Actions are case-insensitive; `code` is returned as given, an empty string meaning none was entered.
 */
export function parseAlarmPayload(text: string): Parsed<{ action: AlarmAction; code?: string }> {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) {
    const action = alarmAction(trimmed);
    return action === undefined ? { ok: false, reason: `payload must be ${ALARM_HINT}` } : { ok: true, action };
  }
  const json = parseJson(trimmed, ALARM_HINT);
  if (!json.ok) return json;
  if (!validateAlarmPayload(json.value)) {
    return { ok: false, reason: describeErrors(validateAlarmPayload.errors, false) };
  }
  const action = alarmAction(json.value.action);
  if (action === undefined) return { ok: false, reason: `action must be one of ${ALARM_ACTIONS.join(', ')}` };
  return json.value.code === undefined ? { ok: true, action } : { ok: true, action, code: json.value.code };
}

/** A switch's `ON`/`OFF` (case-insensitive, surrounding whitespace ignored). */
export function parseSwitch(text: string): Parsed<{ on: boolean }> {
  const upper = text.trim().toUpperCase();
  if (upper === 'ON' || upper === 'OFF') return { ok: true, on: upper === 'ON' };
  return { ok: false, reason: `payload must be ON or OFF, got ${echo(text.trim())}` };
}

/** Compares codes in constant time (both sides hashed first, so their lengths leak nothing either). */
export function codesMatch(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
