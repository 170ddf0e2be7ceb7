import type { FastifyRequest } from 'fastify';
import { type AuditInput, writeAudit } from '../storage/audit.repository.js';
import type { DbOrTx } from '../storage/database.js';
import { actorOf } from './auth.js';
import type { ApiConfig, ApiDeps } from './deps.js';

/** What every route module receives: the dependencies, the configuration and the request helpers. */
export interface ApiContext {
  deps: ApiDeps;
  config: ApiConfig;
  /** IANA timezone of the site (alert schedules). */
  timeZone: string;
  /** `api` or `api:ingress`. */
  actor(request: FastifyRequest): string;
  /** Writes the audit row of a mutation made by `request` (in `db` when given, e.g. the change's transaction). */
  audit(
    request: FastifyRequest,
    entry: Omit<AuditInput, 'actor' | 'ipAddress' | 'userAgent'>,
    db?: DbOrTx,
  ): Promise<void>;
}

/** The site's timezone: configured, else the process's. */
export function siteTimeZone(config: ApiConfig): string {
  return config.site.timezone === '' ? Intl.DateTimeFormat().resolvedOptions().timeZone : config.site.timezone;
}

export function createContext(config: ApiConfig, deps: ApiDeps): ApiContext {
  const actor = (request: FastifyRequest) => actorOf(request, config.http);
  return {
    deps,
    config,
    timeZone: siteTimeZone(config),
    actor,
    async audit(request, entry, db = deps.db) {
      const agent = request.headers['user-agent'];
      await writeAudit(db, {
        ...entry,
        actor: actor(request),
        ipAddress: request.ip,
        userAgent: typeof agent === 'string' ? agent.slice(0, 500) : null,
      });
    },
  };
}
