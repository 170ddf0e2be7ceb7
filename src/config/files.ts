import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { AppError } from '../lib/errors.js';
import { isPlainObject } from './walk.js';

/** Reads a YAML configuration file; an empty file is an empty mapping. Throws `CONFIG_FILE` with path and line. */
export function readYamlFile(file: string): Record<string, unknown> {
  const text = readText(file);
  const doc = parseDocument(text, { prettyErrors: true });
  const error = doc.errors[0];
  if (error !== undefined) {
    const position = error.linePos?.[0];
    throw new AppError('CONFIG_FILE', `Cannot parse configuration file ${file}: ${error.message.trimEnd()}`, {
      cause: error,
      permanent: true,
      details: { file, line: position?.line, column: position?.col },
    });
  }
  return asMapping(doc.toJS({ maxAliasCount: 100 }), file);
}

/** Reads a JSON options file (the Home Assistant add-on's `/data/options.json`). Throws `CONFIG_FILE`. */
export function readJsonFile(file: string): Record<string, unknown> {
  const text = readText(file);
  try {
    return asMapping(JSON.parse(text), file);
  } catch (error) {
    if (error instanceof AppError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const position = jsonPosition(text, message);
    const where = position === undefined ? '' : ` at line ${position.line}, column ${position.column}`;
    throw new AppError('CONFIG_FILE', `Cannot parse JSON file ${file}${where}: ${message}`, {
      cause: error,
      permanent: true,
      details: { file, line: position?.line, column: position?.column },
    });
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
    throw new AppError('CONFIG_FILE', `Cannot read configuration file ${file}: ${reason}`, {
      cause: error,
      permanent: true,
      details: { file },
    });
  }
}

function asMapping(value: unknown, file: string): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (isPlainObject(value)) return value;
  const got = Array.isArray(value) ? 'a list' : `a ${typeof value}`;
  throw new AppError(
    'CONFIG_FILE',
    `Configuration file ${file} must hold a mapping of keys at the top level, not ${got}`,
    {
      permanent: true,
      details: { file, line: 1 },
    },
  );
}

/** Line and column (1-based) of a `JSON.parse` error, when its message gives a position. */
function jsonPosition(text: string, message: string): { line: number; column: number } | undefined {
  const match = /position (\d+)/.exec(message);
  const offset = match?.[1] === undefined ? text.length : Number(match[1]);
  if (match === null && !/end of JSON/i.test(message)) return undefined;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}
