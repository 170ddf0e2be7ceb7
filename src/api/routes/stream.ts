import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { ApiContext } from '../context.js';
import type { ApiMetrics } from '../metrics.js';
import { alertRecordJson, eventRecordJson } from '../present.js';
import { errors } from '../schemas.js';

/** What `/ws/events` sends, one JSON text frame per bus event. */
export type StreamMessage =
  | { type: 'event'; action: EventAction; data: ReturnType<typeof eventRecordJson> }
  | {
      type: 'alert';
      action: 'created' | 'acknowledge' | 'dismiss' | 'deliver' | 'escalate';
      data: ReturnType<typeof alertRecordJson>;
    };

/**
 * A visit's lifecycle, as on MQTT: `new` once when its event is created, `update` when more detections joined and it
 * was re-analysed, `end` once when its batch closed (the final analysis). An event created at batch close (no fast
 * path) sends `new` then `end`.
 */
export type EventAction = 'new' | 'update' | 'end';

/**
 * `GET /ws/events`: new events, new alerts and alert changes as they happen, to every connected client; and
 * `GET /metrics`, the Prometheus exposition.
 */
export function streamRoutes(app: FastifyInstance, ctx: ApiContext, metrics: ApiMetrics): void {
  const { bus, log } = ctx.deps;
  const clients = new Set<WebSocket>();
  const broadcast = (message: StreamMessage) => {
    const text = JSON.stringify(message);
    for (const socket of clients) if (socket.readyState === socket.OPEN) socket.send(text);
  };
  const off = [
    bus.on('event.created', ({ event }) => {
      broadcast({ type: 'event', action: 'new', data: eventRecordJson(event) });
      if (event.closedAt !== null) broadcast({ type: 'event', action: 'end', data: eventRecordJson(event) });
    }),
    bus.on('event.updated', ({ event }) =>
      broadcast({ type: 'event', action: event.closedAt === null ? 'update' : 'end', data: eventRecordJson(event) }),
    ),
    bus.on('alert.created', ({ alert }) =>
      broadcast({ type: 'alert', action: 'created', data: alertRecordJson(alert) }),
    ),
    bus.on('alert.updated', ({ alert, action }) => broadcast({ type: 'alert', action, data: alertRecordJson(alert) })),
  ];
  app.addHook('onClose', async () => {
    for (const unsubscribe of off.splice(0)) unsubscribe();
    for (const socket of clients) socket.close(1001, 'HSI is stopping');
    clients.clear();
  });

  app.get(
    '/ws/events',
    {
      websocket: true,
      schema: {
        tags: ['stream'],
        summary:
          'WebSocket: {type: "event"|"alert", action, data} for every event lifecycle step (new, update, end), new alert and alert change',
      },
    },
    (socket) => {
      clients.add(socket);
      socket.on('close', () => clients.delete(socket));
      socket.on('error', (error) => log.debug({ err: error }, 'WebSocket client error'));
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics (text exposition format)',
        response: {
          200: { description: 'Prometheus text', content: { 'text/plain': { schema: { type: 'string' } } } },
          ...errors(),
        },
      },
    },
    async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.render()),
  );
}
