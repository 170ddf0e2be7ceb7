/**
 * Every API call the page makes, as `'METHOD relative/path'`. Never a leading `/`: the page is served at `/` and, in
 * Home Assistant, under the ingress prefix `/api/hassio_ingress/<token>/`, and relative paths resolve under either.
 * The API tests (test/integration/api/ui.int.test.ts) call each of these against the real routes.
 */
export const ROUTES = {
  health: 'GET api/health/ready',
  arming: 'GET api/arming',
  setMode: 'PUT api/arming',
  cameras: 'GET api/cameras',
  alerts: 'GET api/alerts?status=active&limit=100',
  acknowledge: 'POST api/alerts/:id/acknowledge',
  dismiss: 'POST api/alerts/:id/dismiss',
  events: 'GET api/events?limit=50',
  event: 'GET api/events/:id',
  image: 'GET api/detections/:id/image?annotated=true',
  stream: 'GET ws/events',
} as const;

export type Route = (typeof ROUTES)[keyof typeof ROUTES];

/** 'METHOD path' with `:params` filled in, encoded. */
export function resolve(route: Route, params?: Readonly<Record<string, string | number>>) {
  const space = route.indexOf(' ');
  let path: string = route.slice(space + 1);
  for (const [name, value] of Object.entries(params ?? {})) {
    path = path.replace(`:${name}`, encodeURIComponent(value));
  }
  return { method: route.slice(0, space), path };
}

/** The WebSocket's URL, relative to the page's (so under the ingress prefix too), ws: or wss: as the page. */
export function streamUrl(pageHref: string): string {
  const url = new URL(resolve(ROUTES.stream).path, pageHref);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}
