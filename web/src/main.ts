/**
 * The status page: health, arming, cameras, active alerts and recent events, live over `ws/events` (polling when the
 * socket is down). Server text reaches the DOM only through text nodes (`h`), never as HTML.
 */
import './styles.css';
import { AuthError, api, errorMessage, readKey, send, writeKey } from './api.js';
import { byId, h } from './dom.js';
import { ROUTES, streamUrl } from './routes.js';
import { ago, base64url, offlineAfterMs, when } from './settings.js';
import type { Alert, Arming, Camera, Check, EventDetail, EventSummary, Health, StreamMessage } from './types.js';

const MODES = [
  ['disarmed', 'Disarmed'],
  ['armed_home', 'Home'],
  ['armed_away', 'Away'],
  ['armed_night', 'Night'],
] as const;
const ACTIVE = ['pending', 'delivered'];
const POLL_MS = 30000;
const MAX_EVENTS = 50;
const OFFLINE_AFTER_MS = offlineAfterMs(document.documentElement.dataset.cameraOfflineAfterS);

interface OpenEvent {
  id: EventSummary['id'];
  node: HTMLElement;
  url: string;
}

const state = {
  events: [] as EventSummary[],
  alerts: [] as Alert[],
  cameras: [] as Camera[],
  open: null as OpenEvent | null,
  socket: null as WebSocket | null,
  backoff: 1000,
  retry: 0,
};

const empty = (text: string) => h('li', { class: 'row muted' }, text);

function report(error: unknown): void {
  if (error instanceof AuthError) return;
  const node = byId('error');
  node.textContent = errorMessage(error);
  node.hidden = false;
}

function checkItem(label: string, ok: boolean | undefined, detail: string) {
  return h(
    'li',
    { class: 'row' },
    h('span', { class: `dot ${ok ? 'ok' : 'bad'}` }),
    h('span', { class: 'grow' }, label),
    h('span', { class: 'muted small' }, detail),
  );
}
function checkDetail(check: Check | undefined): string {
  if (!check) return 'unknown';
  return check.ok ? `${check.latency_ms} ms` : check.error || 'down';
}

async function loadHealth(): Promise<void> {
  const health = await api<Health>(ROUTES.health, null, undefined, [503]);
  const status = health.status || 'unavailable';
  const pill = byId('health');
  pill.textContent = status;
  pill.className = `pill ${status === 'ok' ? 'ok' : status === 'degraded' ? 'warn' : 'bad'}`;
  const c = health.checks ?? {};
  const items = [
    checkItem('Database', c.database?.ok, checkDetail(c.database)),
    checkItem('Queues', c.queues?.ok, checkDetail(c.queues)),
    checkItem('MQTT', c.mqtt?.connected, c.mqtt?.connected ? 'connected' : 'disconnected'),
  ];
  for (const [name, n] of Object.entries(c.queues?.counts ?? {})) {
    const text = `${n.waiting} waiting · ${n.active} active${n.dead ? ` · ${n.dead} dead` : ''}`;
    items.push(checkItem(`Queue ${name}`, !n.dead, text));
  }
  byId('system').replaceChildren(...items);
}

function renderArming(arming: Arming): void {
  byId('modes').replaceChildren(
    ...MODES.map(([mode, label]) =>
      h(
        'button',
        {
          type: 'button',
          class: mode === arming.mode ? 'on' : null,
          'aria-pressed': String(mode === arming.mode),
          onclick: () => void setMode(mode),
        },
        label,
      ),
    ),
  );
  const zones = arming.zones ?? [];
  const armed = zones.filter((z) => z.armed_now).length;
  byId('arming-info').textContent = [
    arming.changed_at ? `since ${ago(arming.changed_at)}` : '',
    arming.changed_by ? `by ${arming.changed_by}` : '',
    zones.length ? `${armed} of ${zones.length} zones armed` : '',
  ]
    .filter(Boolean)
    .join(' · ');
}
async function loadArming(): Promise<void> {
  renderArming(await api<Arming>(ROUTES.arming));
}
async function setMode(mode: string): Promise<void> {
  for (const button of byId('modes').querySelectorAll('button')) button.disabled = true;
  try {
    renderArming(await api<Arming>(ROUTES.setMode, null, { mode }));
  } catch (error) {
    report(error);
    await loadArming().catch(report);
  }
}

function renderCameras(): void {
  const items = state.cameras.map((c) => {
    const online = Date.now() - Date.parse(c.last_seen_at || '') < OFFLINE_AFTER_MS;
    const seen = c.last_seen_at ? `seen ${ago(c.last_seen_at)}` : 'never seen';
    return h(
      'li',
      null,
      h('span', { class: `dot ${online ? 'ok' : 'bad'}` }),
      h('span', { class: 'grow' }, c.name || c.id),
      c.detection_enabled === false ? h('span', { class: 'muted small' }, 'detection off') : null,
      h('span', { class: 'muted small', title: when(c.last_seen_at) }, `${online ? 'online' : 'offline'} · ${seen}`),
    );
  });
  byId('cameras').replaceChildren(...(items.length ? items : [empty('No cameras yet')]));
}
async function loadCameras(): Promise<void> {
  state.cameras = (await api<{ cameras?: Camera[] }>(ROUTES.cameras)).cameras ?? [];
  renderCameras();
}

function renderAlerts(): void {
  const items = state.alerts.map((a) =>
    h(
      'li',
      { class: 'row' },
      h('span', { class: `lvl lvl-${a.severity}`, title: a.severity }),
      h(
        'span',
        { class: 'grow' },
        h('span', null, a.message),
        h(
          'span',
          { class: 'muted small', title: when(a.created_at) },
          [a.camera_id, ago(a.created_at), a.status].filter(Boolean).join(' · '),
        ),
      ),
      h('button', { type: 'button', onclick: () => void act('acknowledge', a.id) }, 'Ack'),
      h('button', { type: 'button', onclick: () => void act('dismiss', a.id) }, 'Dismiss'),
    ),
  );
  byId('alert-count').textContent = state.alerts.length ? ` ${state.alerts.length}` : '';
  byId('alerts').replaceChildren(...(items.length ? items : [empty('No active alerts')]));
}
async function loadAlerts(): Promise<void> {
  state.alerts = (await api<{ alerts?: Alert[] }>(ROUTES.alerts)).alerts ?? [];
  renderAlerts();
}
async function act(action: 'acknowledge' | 'dismiss', id: string): Promise<void> {
  try {
    await api(ROUTES[action], { id });
  } catch (error) {
    report(error);
  }
  await loadAlerts().catch(report);
}

function renderEvents(): void {
  const items = state.events.map((e) => {
    const open = state.open !== null && state.open.id === e.id;
    const meta = [ago(e.started_at), e.camera_id, (e.object_types ?? []).join(', ')].filter(Boolean).join(' · ');
    return h(
      'li',
      { class: 'event' },
      h(
        'button',
        { type: 'button', class: 'event-row', 'aria-expanded': String(open), onclick: () => void toggle(e.id) },
        h('span', { class: `lvl lvl-${e.risk_level}` }),
        h(
          'span',
          { class: 'grow' },
          h('span', { class: 'summary' }, e.summary || '(no summary)'),
          h('span', { class: 'muted small', title: when(e.started_at) }, meta),
        ),
        h('span', { class: `level level-${e.risk_level}` }, `${e.risk_level} ${e.risk_score}`),
      ),
      open ? state.open?.node : null,
    );
  });
  byId('events').replaceChildren(...(items.length ? items : [empty('No events yet')]));
}
async function loadEvents(): Promise<void> {
  state.events = (await api<{ events?: EventSummary[] }>(ROUTES.events)).events ?? [];
  renderEvents();
}

function closeDetail(): void {
  if (state.open?.url) URL.revokeObjectURL(state.open.url);
  state.open = null;
}
async function toggle(id: EventSummary['id']): Promise<void> {
  const wasOpen = state.open !== null && state.open.id === id;
  closeDetail();
  const open = wasOpen ? null : { id, node: h('div', { class: 'detail muted small' }, 'Loading…'), url: '' };
  state.open = open;
  renderEvents();
  if (open === null) return;
  try {
    renderDetail(open.node, await api<EventDetail>(ROUTES.event, { id }));
  } catch (error) {
    open.node.replaceChildren(h('p', { class: 'bad' }, errorMessage(error)));
  }
}
function renderDetail(node: HTMLElement, e: EventDetail): void {
  const img = h('img', { class: 'shot', alt: 'Annotated detection', hidden: true }) as HTMLImageElement;
  const note = h('p', { class: 'muted small' });
  const detections = (e.detections ?? []).map((d) =>
    h(
      'li',
      null,
      h(
        'button',
        { type: 'button', class: 'link', onclick: () => void showImage(d.id, img, note) },
        `${d.object_type} ${Math.round(d.confidence * 100)}%`,
      ),
      h(
        'span',
        { class: 'muted small' },
        ` ${when(d.detected_at)}${(d.zone_ids ?? []).length ? ` · ${(d.zone_ids ?? []).join(', ')}` : ''}`,
      ),
    ),
  );
  node.className = 'detail';
  const count = `${e.detection_count}${e.detection_count === 1 ? ' detection' : ' detections'}`;
  node.replaceChildren(
    ...[
      e.reasoning ? h('p', null, e.reasoning) : null,
      e.recommended_action ? h('p', null, h('strong', null, 'Recommended: '), e.recommended_action) : null,
      h('p', { class: 'muted small' }, [when(e.started_at), e.analysis_source, count].join(' · ')),
      detections.length ? h('ul', { class: 'dets' }, ...detections) : null,
      note,
      img,
    ].filter((child) => child !== null),
  );
  const first = e.detections?.[0];
  if (first) void showImage(first.id, img, note);
}
async function showImage(id: string | number, img: HTMLImageElement, note: HTMLElement): Promise<void> {
  note.textContent = 'Loading image…';
  try {
    const res = await send(ROUTES.image, { id }, undefined, 'image/jpeg');
    if (!res.ok) {
      const json = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
      throw new Error(json?.error?.message || `image unavailable (${res.status})`);
    }
    const url = URL.createObjectURL(await res.blob());
    if (state.open === null || !state.open.node.contains(img)) {
      URL.revokeObjectURL(url);
      return;
    }
    if (state.open.url) URL.revokeObjectURL(state.open.url);
    state.open.url = url;
    img.src = url;
    img.hidden = false;
    note.textContent = '';
  } catch (error) {
    img.hidden = true;
    note.textContent = errorMessage(error);
  }
}

function onMessage(m: StreamMessage): void {
  if (m.type === 'event' && m.data) {
    const event = m.data as EventSummary;
    if (state.events.some((e) => e.id === event.id)) return;
    state.events = [event, ...state.events]
      .sort((a, b) => Date.parse(b.started_at) - Date.parse(a.started_at))
      .slice(0, MAX_EVENTS);
    renderEvents();
  } else if (m.type === 'alert' && m.data) {
    const alert = m.data as Alert;
    const rest = state.alerts.filter((a) => a.id !== alert.id);
    const index = state.alerts.findIndex((a) => a.id === alert.id);
    if (!ACTIVE.includes(alert.status)) state.alerts = rest;
    else if (index < 0) state.alerts = [alert, ...rest];
    else state.alerts[index] = { ...state.alerts[index], ...alert };
    renderAlerts();
  }
}

const live = () => state.socket !== null && state.socket.readyState === WebSocket.OPEN;
function showLive(): void {
  const pill = byId('live');
  pill.textContent = live() ? 'live' : 'polling';
  pill.className = `pill ${live() ? 'ok' : 'muted'}`;
}

/** Health, arming and cameras every time; alerts and events only when the socket is not delivering them. */
async function refresh(all: boolean): Promise<void> {
  const jobs = [loadHealth(), loadArming(), loadCameras()];
  if (all || !live()) jobs.push(loadAlerts(), loadEvents());
  const failed = (await Promise.allSettled(jobs)).filter((r) => r.status === 'rejected');
  if (failed[0]) report(failed[0].reason);
  else byId('error').hidden = true;
}

function connect(): void {
  clearTimeout(state.retry);
  let socket: WebSocket;
  try {
    // Browsers cannot send headers with a WebSocket: the key travels as a subprotocol (never in the URL).
    const key = readKey();
    const url = streamUrl(location.href);
    socket = key ? new WebSocket(url, ['hsi.v1', `hsi-key.${base64url(key)}`]) : new WebSocket(url);
  } catch {
    schedule();
    return;
  }
  state.socket = socket;
  socket.addEventListener('open', () => {
    state.backoff = 1000;
    showLive();
    void refresh(true);
  });
  socket.addEventListener('message', (m: MessageEvent<string>) => {
    try {
      onMessage(JSON.parse(m.data) as StreamMessage);
    } catch {
      // Not JSON: nothing the page knows.
    }
  });
  socket.addEventListener('close', () => {
    if (state.socket !== socket) return;
    state.socket = null;
    showLive();
    schedule();
  });
}
/** Reconnects after 1 s, doubling to at most a minute, with jitter so many tabs do not retry together. */
function schedule(): void {
  state.retry = window.setTimeout(connect, state.backoff + Math.random() * 1000);
  state.backoff = Math.min(state.backoff * 2, 60000);
}
function reconnect(): void {
  const old = state.socket;
  state.socket = null;
  if (old) old.close();
  state.backoff = 1000;
  connect();
}

byId('key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = byId<HTMLInputElement>('key-input');
  const key = input.value.trim();
  if (!key) return;
  writeKey(key);
  input.value = '';
  byId('key-form').hidden = true;
  void refresh(true);
  reconnect();
});
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) void refresh(false);
});
setInterval(() => {
  if (!document.hidden) void refresh(false);
}, POLL_MS);
void refresh(true);
connect();
