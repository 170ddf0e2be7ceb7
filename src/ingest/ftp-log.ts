import type { Logger } from '../lib/logger.js';

/**
 * ftp-srv logs through a bunyan-style logger (`log.child({...})`, `log.error(err, 'msg')`, `log.info('msg', n)`).
 * This adapter sends all of it to our pino logger (the receiver's child, `component: 'ftp'`) at debug (trace stays trace): its
 * lines are protocol chatter, and the receiver logs what matters (logins refused, uploads) itself. ftp-srv's raw
 * command traces carry `PASS <password>`; every such string is masked before it reaches a log line.
 */

export interface BunyanStyleLogger {
  child(fields: Record<string, unknown>): BunyanStyleLogger;
  trace(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  fatal(...args: unknown[]): void;
}

const PASS_COMMAND = /^(\s*PASS)[ \t]+\S.*$/gim;
const MAX_DEPTH = 4;

/** A copy of `value` with every `PASS <secret>` command string masked; errors and non-plain objects kept as is. */
export function maskFtpSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(PASS_COMMAND, '$1 ********');
  if (depth >= MAX_DEPTH || value === null || typeof value !== 'object' || value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((item) => maskFtpSecrets(item, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = maskFtpSecrets(item, depth + 1);
  return out;
}

/** Bunyan-style arguments -> pino's (fields, message). */
export function toPinoArgs(args: readonly unknown[]): { fields: Record<string, unknown>; message: string } {
  const fields: Record<string, unknown> = {};
  const words: string[] = [];
  for (const arg of args) {
    if (arg instanceof Error) fields.err = arg;
    else if (typeof arg === 'string') words.push(String(maskFtpSecrets(arg)));
    else if (Array.isArray(arg)) words.push((maskFtpSecrets(arg) as unknown[]).map(String).join(' | '));
    else if (arg !== null && typeof arg === 'object') Object.assign(fields, maskFtpSecrets(arg));
    else if (arg !== undefined) words.push(String(arg));
  }
  return { fields, message: words.length === 0 ? 'ftp-srv' : `ftp-srv: ${words.join(' ')}` };
}

function adapt(log: Logger): BunyanStyleLogger {
  const at =
    (level: 'trace' | 'debug') =>
    (...args: unknown[]): void => {
      if (!log.isLevelEnabled(level)) return;
      const { fields, message } = toPinoArgs(args);
      log[level](fields, message);
    };
  const debug = at('debug');
  return {
    child: (fields) => adapt(log.child(maskFtpSecrets(fields) as Record<string, unknown>)),
    trace: at('trace'),
    debug,
    info: debug,
    warn: debug,
    error: debug,
    fatal: debug,
  };
}

/** The logger handed to ftp-srv, writing through `log` (the receiver's `component: 'ftp'` child). */
export function ftpSrvLogger(log: Logger): BunyanStyleLogger {
  return adapt(log);
}
