import type { AddressInfo } from 'node:net';
import swagger, { type SwaggerOptions } from '@fastify/swagger';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { AppError, errorMessage } from '../lib/errors.js';
import { VERSION } from '../version.js';
import { installAuth } from './auth.js';
import { createContext } from './context.js';
import type { ApiConfig, ApiDeps } from './deps.js';
import { answerFrameworkError, installErrorHandlers, refuseNulCharacters } from './errors.js';
import { installHostGuard } from './host-guard.js';
import { createMetrics } from './metrics.js';
import { alertRuleRoutes } from './routes/alert-rules.js';
import { alertRoutes } from './routes/alerts.js';
import { armingRoutes } from './routes/arming.js';
import { auditRoutes } from './routes/audit.js';
import { cameraRoutes } from './routes/cameras.js';
import { deadLetterRoutes } from './routes/dead-letters.js';
import { detectionRoutes } from './routes/detections.js';
import { eventRoutes } from './routes/events.js';
import { feedbackRoutes } from './routes/feedback.js';
import { healthRoutes } from './routes/health.js';
import { logRoutes } from './routes/logs.js';
import { streamRoutes } from './routes/stream.js';
import { uiRoutes } from './routes/ui.js';
import { zoneRoutes } from './routes/zones.js';

export type { ApiConfig, ApiDeps, ApiStatus, QueueView, ReadinessChecks } from './deps.js';
export { readinessChecks } from './deps.js';

export interface ApiServer {
  /** Where it listens, e.g. `http://127.0.0.1:8099` (the real port when `http.port` is 0). */
  url: string;
  app: FastifyInstance;
  /** Closes WebSocket clients, stops the bus listeners and the listener. */
  close(): Promise<void>;
}

function openApiOptions(config: ApiConfig): SwaggerOptions {
  const secured = config.http.api_key !== '';
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'HSI (Home Security Intelligence) API',
        version: VERSION,
        description:
          'Events, detections, alerts, rules, zones and arming. Errors are `{error: {code, message, field?}}`. ' +
          'Live stream: WebSocket `/ws/events`; metrics: `/metrics`.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      security: secured ? [{ bearer: [] }, { apiKey: [] }] : [],
    },
  };
}

/**
 * The API as a Fastify instance, ready but not listening (tests call `inject`). Closing it removes its bus
 * listeners and closes WebSocket clients.
 */
export async function createApi(config: ApiConfig, deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    forceCloseConnections: true,
    // Unknown fields are refused (400 naming them) instead of silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
    frameworkErrors: answerFrameworkError,
  });
  const ctx = createContext(config, deps);
  const metrics = createMetrics({ status: ctx.status, bus: deps.bus, checks: deps.checks, log: deps.log });
  app.addHook('onClose', async () => metrics.close());
  installErrorHandlers(app, deps.log);
  refuseNulCharacters(app);
  installHostGuard(app, config.http);
  installAuth(app, config.http);
  await app.register(swagger, openApiOptions(config));
  await app.register(websocket);
  // An upgrade refused with an HTTP answer (401, 404) keeps a socket the HTTP server no longer tracks: end it, or
  // it stays open and `close()` waits for it forever.
  app.addHook('onResponse', async (request) => {
    if (request.headers.upgrade !== undefined) request.raw.socket.end();
  });
  for (const routes of [
    healthRoutes,
    cameraRoutes,
    eventRoutes,
    feedbackRoutes,
    detectionRoutes,
    alertRoutes,
    alertRuleRoutes,
    zoneRoutes,
    armingRoutes,
    deadLetterRoutes,
    auditRoutes,
    logRoutes,
  ]) {
    routes(app, ctx);
  }
  for (const routes of deps.routes ?? []) routes(app, ctx);
  streamRoutes(app, ctx, metrics);
  uiRoutes(app, { cameraOfflineAfterS: config.homeassistant.camera_offline_after_s, log: deps.log });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.ready();
  return app;
}

/** Builds the API and listens on `http.host`:`http.port` (0 picks a free port). */
export async function startApi(config: ApiConfig, deps: ApiDeps): Promise<ApiServer> {
  const app = await createApi(config, deps);
  try {
    await app.listen({ host: config.http.host, port: config.http.port });
  } catch (error) {
    await app.close();
    throw new AppError(
      'CONFIG_INVALID',
      `HTTP API cannot listen on ${config.http.host}:${config.http.port} (http.host, http.port): ${errorMessage(error)}`,
      { cause: error },
    );
  }
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  deps.log.info(
    { url, auth: config.http.api_key === '' ? 'none' : 'key', ingress: config.http.ingress },
    'HTTP API listening',
  );
  return { url, app, close: () => app.close() };
}
