import type { Config } from './config/schema.js';
import { AppError } from './lib/errors.js';

/**
 * What one HSI process does. Default: everything. `enrich` runs the frame processors of the enabled features
 * (faces, re-identification, ...) after detection; with none enabled it does nothing.
 */
export const ROLES = ['ingest', 'detect', 'enrich', 'analyze', 'bridge', 'api'] as const;
export type Role = (typeof ROLES)[number];

/** Parses `--roles ingest,detect` (or `HSI_ROLES`); unknown names are a clear error. */
export function parseRoles(text: string | undefined): Set<Role> {
  if (text === undefined || text.trim() === '' || text.trim() === 'all') return new Set(ROLES);
  const names = text
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  const unknown = names.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (unknown.length > 0) {
    throw new AppError(
      'CONFIG_INVALID',
      `unknown role(s) ${unknown.join(', ')}; roles are ${ROLES.join(', ')} (default: all)`,
    );
  }
  return new Set(names as Role[]);
}

/**
 * A process running only some roles shares its work with others through PostgreSQL and Redis; on the embedded
 * backends (PGlite, in-process queue) that cannot work, so it is refused with what to configure.
 */
export function assertRolesFitBackends(roles: ReadonlySet<Role>, config: Config): void {
  if (roles.size === ROLES.length) return;
  const missing = [
    config.database.url === '' ? 'database.url (PostgreSQL)' : undefined,
    config.redis.url === '' ? 'redis.url (Redis)' : undefined,
  ].filter((m) => m !== undefined);
  if (missing.length === 0) return;
  throw new AppError(
    'BACKENDS_EMBEDDED',
    `running only the roles ${[...roles].join(', ')} needs shared backends: set ${missing.join(' and ')}. ` +
      'On the embedded backends run every role in one process (the default).',
  );
}
