import type { FastifyInstance, FastifyRequest } from 'fastify';
import { siteTimeZone } from '../config/site.js';
import { SystemStatus } from '../status/system-status.js';
import { type AuditInput, writeAudit } from '../storage/audit.repository.js';
import type { DbOrTx } from '../storage/database.js';
import { VERSION } from '../version.js';
import { actorOf } from './auth.js';
import type { ApiConfig, ApiDeps, ApiStatus } from './deps.js';

/** What every route module receives: the dependencies, the configuration and the request helpers. */
/** Routes a feature adds to the API: registered after the core routes, behind the same auth, guards and errors. */
export type ApiRoutes = (app: FastifyInstance, ctx: ApiContext) => void;

export interface ApiContext {
  deps: ApiDeps;
  config: ApiConfig;
  /** IANA timezone of the site (alert schedules). */
  timeZone: string;
  /** The system-status read model (`deps.status`, or one built from `deps`): `/api/stats` and `/metrics`. */
  status: ApiStatus;
  /** `api` or `api:ingress`. */
  actor(request: FastifyRequest): string;
  /** Writes the audit row of a mutation made by `request` (in `db` when given, e.g. the change's transaction). */
  audit(
    request: FastifyRequest,
    entry: Omit<AuditInput, 'actor' | 'ipAddress' | 'userAgent'>,
    db?: DbOrTx,
  ): Promise<void>;
}

/** The status read model built from the API's own dependencies, when none is passed in. */
function ownStatus(config: ApiConfig, deps: ApiDeps): ApiStatus {
  return new SystemStatus({
    db: deps.db,
    queues: deps.queues,
    clock: deps.clock,
    version: VERSION,
    timeZone: siteTimeZone(config),
    cameraOfflineAfterS: config.homeassistant.camera_offline_after_s,
    failedLogins: deps.failedLogins,
    ...(deps.checks.ingest === undefined ? {} : { ingest: () => deps.checks.ingest?.() }),
  });
}

export function createContext(config: ApiConfig, deps: ApiDeps): ApiContext {
  const actor = (request: FastifyRequest) => actorOf(request, config.http);
  return {
    deps,
    config,
    timeZone: siteTimeZone(config),
    status: deps.status ?? ownStatus(config, deps),
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
