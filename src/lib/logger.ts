import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** Keys whose values never reach a log line, wherever they appear in a logged object. */
const REDACT = [
  'password',
  '*.password',
  '*.*.password',
  'api_key',
  '*.api_key',
  '*.*.api_key',
  'apiKey',
  '*.apiKey',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
];

export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { app: 'hsi' } };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}

/**
 * The service's logger: JSON lines on stdout at `level`, and warnings and errors also to `extra` (the database's
 * `logs` table, searchable through the API).
 */
export function createServiceLogger(level: LogLevel, extra: { write(line: string): void }): Logger {
  const streams = pino.multistream([
    { level: level === 'silent' ? 'fatal' : level, stream: process.stdout },
    { level: 'warn', stream: extra },
  ]);
  return pino(
    {
      level: level === 'silent' ? 'silent' : 'trace',
      redact: { paths: REDACT, censor: '[redacted]' },
      base: { app: 'hsi' },
    },
    streams,
  );
}

/** A logger that drops everything: for tests that do not assert on logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
