/**
 * The status page's script, served as `/ui/app.js`: vanilla JavaScript in a string because `tsc` ships only .ts
 * into dist/ and the page has no build step. Rules it keeps (the tests check the first two):
 * - every API call goes through `ROUTES` as `'METHOD relative/path'`, never a leading `/`, so it works under the
 *   Home Assistant ingress prefix; the WebSocket URL is resolved against `location`;
 * - it uses no template literals (this module is one), so the source below is exactly what the browser runs;
 * - server text reaches the DOM only through `textContent` / text nodes, never `innerHTML`.
 */
export const UI_SCRIPT = `(() => {
  'use strict';

  const ROUTES = {
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
  };
  const MODES = [['disarmed', 'Disarmed'], ['armed_home', 'Home'], ['armed_away', 'Away'], ['armed_night', 'Night']];
  const ACTIVE = ['pending', 'delivered'];
  const KEY_STORE = 'hsi.api_key';
  const POLL_MS = 30000;
  const MAX_EVENTS = 50;
  // homeassistant.camera_offline_after_s, as the page's root element carries it (data-camera-offline-after-s): the
  // status page calls a camera offline when Home Assistant's connectivity sensor does.
  const OFFLINE_AFTER_MS = offlineAfterMs(document.documentElement.dataset.cameraOfflineAfterS);

  const state = { events: [], alerts: [], cameras: [], open: null, socket: null, backoff: 1000, retry: 0, key: '' };
  const $ = (id) => document.getElementById(id);

  /** Seconds from the page's attribute, in ms; the configuration's default (an hour) when absent or not a number. */
  function offlineAfterMs(attribute) {
    const seconds = Number(attribute);
    return (attribute && Number.isFinite(seconds) && seconds > 0 ? seconds : 3600) * 1000;
  }

  class AuthError extends Error {}

  /** An element with props (class, text, on*, attributes) and children (nodes or text; null skipped). */
  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'class') node.className = value;
      else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }
  const empty = (text) => h('li', { class: 'row muted' }, text);
  const message = (error) => String((error && error.message) || error);

  function when(iso) {
    return iso ? new Date(iso).toLocaleString() : '';
  }
  function ago(iso) {
    if (!iso) return 'never';
    const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
    if (s < 60) return 'just now';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    if (s < 86400) return Math.floor(s / 3600) + ' h ago';
    return new Date(iso).toLocaleDateString();
  }

  function base64url(text) {
    let binary = '';
    for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
    return btoa(binary).split('+').join('-').split('/').join('_').replace(/=+$/, '');
  }

  function readKey() {
    try {
      return localStorage.getItem(KEY_STORE) || state.key;
    } catch {
      return state.key;
    }
  }
  function writeKey(key) {
    state.key = key;
    try {
      localStorage.setItem(KEY_STORE, key);
    } catch {
      // Storage blocked (private mode, sandbox): the key lives as long as the page.
    }
  }

  function askKey(refused) {
    $('key-hint').textContent = refused
      ? 'The saved API key was refused: enter it again.'
      : 'This HSI needs its API key (http.api_key).';
    if ($('key-form').hidden) {
      $('key-form').hidden = false;
      $('key-input').focus();
    }
  }

  /** 'METHOD path' with :params filled in, encoded. */
  function resolve(route, params) {
    const space = route.indexOf(' ');
    let path = route.slice(space + 1);
    for (const [name, value] of Object.entries(params || {})) path = path.replace(':' + name, encodeURIComponent(value));
    return { method: route.slice(0, space), path };
  }

  async function send(route, params, body, accept) {
    const { method, path } = resolve(route, params);
    const headers = { accept: accept || 'application/json' };
    const key = readKey();
    if (key) headers['x-api-key'] = key;
    const init = { method, headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    if (res.status === 401) {
      askKey(key !== '');
      throw new AuthError('API key needed');
    }
    return res;
  }

  async function api(route, params, body, allow) {
    const res = await send(route, params, body);
    const json = (res.headers.get('content-type') || '').includes('json') ? await res.json() : null;
    if (!res.ok && !(allow || []).includes(res.status)) {
      throw new Error((json && json.error && json.error.message) || res.status + ' ' + res.statusText);
    }
    return json;
  }

  function report(error) {
    if (error instanceof AuthError) return;
    $('error').textContent = message(error);
    $('error').hidden = false;
  }

  function checkItem(label, ok, detail) {
    return h('li', { class: 'row' }, h('span', { class: 'dot ' + (ok ? 'ok' : 'bad') }), h('span', { class: 'grow' }, label),
      h('span', { class: 'muted small' }, detail));
  }
  function checkDetail(check) {
    if (!check) return 'unknown';
    return check.ok ? check.latency_ms + ' ms' : check.error || 'down';
  }

  async function loadHealth() {
    const health = await api(ROUTES.health, null, undefined, [503]);
    const status = health.status || 'unavailable';
    $('health').textContent = status;
    $('health').className = 'pill ' + (status === 'ok' ? 'ok' : status === 'degraded' ? 'warn' : 'bad');
    const c = health.checks || {};
    const items = [
      checkItem('Database', c.database && c.database.ok, checkDetail(c.database)),
      checkItem('Queues', c.queues && c.queues.ok, checkDetail(c.queues)),
      checkItem('MQTT', c.mqtt && c.mqtt.connected, c.mqtt && c.mqtt.connected ? 'connected' : 'disconnected'),
    ];
    for (const [name, n] of Object.entries((c.queues && c.queues.counts) || {})) {
      const text = n.waiting + ' waiting · ' + n.active + ' active' + (n.dead ? ' · ' + n.dead + ' dead' : '');
      items.push(checkItem('Queue ' + name, !n.dead, text));
    }
    $('system').replaceChildren(...items);
  }

  function renderArming(arming) {
    $('modes').replaceChildren(...MODES.map(([mode, label]) => h('button', {
      type: 'button', class: mode === arming.mode ? 'on' : null, 'aria-pressed': String(mode === arming.mode),
      onclick: () => setMode(mode),
    }, label)));
    const zones = arming.zones || [];
    const armed = zones.filter((z) => z.armed_now).length;
    $('arming-info').textContent = [
      arming.changed_at ? 'since ' + ago(arming.changed_at) : '',
      arming.changed_by ? 'by ' + arming.changed_by : '',
      zones.length ? armed + ' of ' + zones.length + ' zones armed' : '',
    ].filter(Boolean).join(' · ');
  }
  async function loadArming() {
    renderArming(await api(ROUTES.arming));
  }
  async function setMode(mode) {
    for (const button of $('modes').querySelectorAll('button')) button.disabled = true;
    try {
      renderArming(await api(ROUTES.setMode, null, { mode }));
    } catch (error) {
      report(error);
      await loadArming().catch(report);
    }
  }

  function renderCameras() {
    const items = state.cameras.map((c) => {
      const online = Date.now() - Date.parse(c.last_seen_at || '') < OFFLINE_AFTER_MS;
      const seen = c.last_seen_at ? 'seen ' + ago(c.last_seen_at) : 'never seen';
      return h('li', null, h('span', { class: 'dot ' + (online ? 'ok' : 'bad') }),
        h('span', { class: 'grow' }, c.name || c.id),
        c.detection_enabled === false ? h('span', { class: 'muted small' }, 'detection off') : null,
        h('span', { class: 'muted small', title: when(c.last_seen_at) }, (online ? 'online' : 'offline') + ' · ' + seen));
    });
    $('cameras').replaceChildren(...(items.length ? items : [empty('No cameras yet')]));
  }
  async function loadCameras() {
    state.cameras = (await api(ROUTES.cameras)).cameras || [];
    renderCameras();
  }

  function renderAlerts() {
    const items = state.alerts.map((a) => h('li', { class: 'row' },
      h('span', { class: 'lvl lvl-' + a.severity, title: a.severity }),
      h('span', { class: 'grow' }, h('span', null, a.message),
        h('span', { class: 'muted small', title: when(a.created_at) },
          [a.camera_id, ago(a.created_at), a.status].filter(Boolean).join(' · '))),
      h('button', { type: 'button', onclick: () => act('acknowledge', a.id) }, 'Ack'),
      h('button', { type: 'button', onclick: () => act('dismiss', a.id) }, 'Dismiss')));
    $('alert-count').textContent = state.alerts.length ? ' ' + state.alerts.length : '';
    $('alerts').replaceChildren(...(items.length ? items : [empty('No active alerts')]));
  }
  async function loadAlerts() {
    state.alerts = (await api(ROUTES.alerts)).alerts || [];
    renderAlerts();
  }
  async function act(action, id) {
    try {
      await api(ROUTES[action], { id });
    } catch (error) {
      report(error);
    }
    await loadAlerts().catch(report);
  }

  function renderEvents() {
    const items = state.events.map((e) => {
      const open = state.open !== null && state.open.id === e.id;
      const meta = [ago(e.started_at), e.camera_id, (e.object_types || []).join(', ')].filter(Boolean).join(' · ');
      return h('li', { class: 'event' },
        h('button', { type: 'button', class: 'event-row', 'aria-expanded': String(open), onclick: () => toggle(e.id) },
          h('span', { class: 'lvl lvl-' + e.risk_level }),
          h('span', { class: 'grow' }, h('span', { class: 'summary' }, e.summary || '(no summary)'),
            h('span', { class: 'muted small', title: when(e.started_at) }, meta)),
          h('span', { class: 'level level-' + e.risk_level }, e.risk_level + ' ' + e.risk_score)),
        open ? state.open.node : null);
    });
    $('events').replaceChildren(...(items.length ? items : [empty('No events yet')]));
  }
  async function loadEvents() {
    state.events = (await api(ROUTES.events)).events || [];
    renderEvents();
  }

  function closeDetail() {
    if (state.open && state.open.url) URL.revokeObjectURL(state.open.url);
    state.open = null;
  }
  async function toggle(id) {
    const wasOpen = state.open !== null && state.open.id === id;
    closeDetail();
    if (!wasOpen) state.open = { id, node: h('div', { class: 'detail muted small' }, 'Loading…'), url: '' };
    renderEvents();
    if (wasOpen) return;
    const node = state.open.node;
    try {
      renderDetail(node, await api(ROUTES.event, { id }));
    } catch (error) {
      node.replaceChildren(h('p', { class: 'bad' }, message(error)));
    }
  }
  function renderDetail(node, e) {
    const img = h('img', { class: 'shot', alt: 'Annotated detection', hidden: true });
    const note = h('p', { class: 'muted small' });
    const detections = (e.detections || []).map((d) => h('li', null,
      h('button', { type: 'button', class: 'link', onclick: () => showImage(d.id, img, note) },
        d.object_type + ' ' + Math.round(d.confidence * 100) + '%'),
      h('span', { class: 'muted small' }, ' ' + when(d.detected_at) + ((d.zone_ids || []).length ? ' · ' + d.zone_ids.join(', ') : ''))));
    node.className = 'detail';
    node.replaceChildren(...[
      e.reasoning ? h('p', null, e.reasoning) : null,
      e.recommended_action ? h('p', null, h('strong', null, 'Recommended: '), e.recommended_action) : null,
      h('p', { class: 'muted small' }, [when(e.started_at), e.analysis_source, e.detection_count + (e.detection_count === 1 ? ' detection' : ' detections')].join(' · ')),
      detections.length ? h('ul', { class: 'dets' }, ...detections) : null,
      note, img,
    ].filter(Boolean));
    if (e.detections && e.detections[0]) showImage(e.detections[0].id, img, note);
  }
  async function showImage(id, img, note) {
    note.textContent = 'Loading image…';
    try {
      const res = await send(ROUTES.image, { id }, undefined, 'image/jpeg');
      if (!res.ok) {
        const json = await res.json().catch(() => null);
        throw new Error((json && json.error && json.error.message) || 'image unavailable (' + res.status + ')');
      }
      const url = URL.createObjectURL(await res.blob());
      if (state.open === null || !state.open.node.contains(img)) return URL.revokeObjectURL(url);
      if (state.open.url) URL.revokeObjectURL(state.open.url);
      state.open.url = url;
      img.src = url;
      img.hidden = false;
      note.textContent = '';
    } catch (error) {
      img.hidden = true;
      note.textContent = message(error);
    }
  }

  function onMessage(m) {
    if (m.type === 'event' && m.data) {
      if (state.events.some((e) => e.id === m.data.id)) return;
      state.events = [m.data, ...state.events]
        .sort((a, b) => Date.parse(b.started_at) - Date.parse(a.started_at)).slice(0, MAX_EVENTS);
      renderEvents();
    } else if (m.type === 'alert' && m.data) {
      const rest = state.alerts.filter((a) => a.id !== m.data.id);
      const index = state.alerts.findIndex((a) => a.id === m.data.id);
      if (!ACTIVE.includes(m.data.status)) state.alerts = rest;
      else if (index < 0) state.alerts = [m.data, ...rest];
      else state.alerts[index] = Object.assign({}, state.alerts[index], m.data);
      renderAlerts();
    }
  }

  const live = () => state.socket !== null && state.socket.readyState === WebSocket.OPEN;
  function showLive() {
    $('live').textContent = live() ? 'live' : 'polling';
    $('live').className = 'pill ' + (live() ? 'ok' : 'muted');
  }

  /** Health, arming and cameras every time; alerts and events only when the socket is not delivering them. */
  async function refresh(all) {
    const jobs = [loadHealth(), loadArming(), loadCameras()];
    if (all || !live()) jobs.push(loadAlerts(), loadEvents());
    const failed = (await Promise.allSettled(jobs)).filter((r) => r.status === 'rejected');
    if (failed.length) report(failed[0].reason);
    else $('error').hidden = true;
  }

  function connect() {
    clearTimeout(state.retry);
    const url = new URL(resolve(ROUTES.stream).path, location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    let socket;
    try {
      // Browsers cannot send headers with a WebSocket: the key travels as a subprotocol (never in the URL).
      const key = readKey();
      socket = key ? new WebSocket(url.href, ['hsi.v1', 'hsi-key.' + base64url(key)]) : new WebSocket(url.href);
    } catch {
      return schedule();
    }
    state.socket = socket;
    socket.addEventListener('open', () => {
      state.backoff = 1000;
      showLive();
      refresh(true);
    });
    socket.addEventListener('message', (m) => {
      try {
        onMessage(JSON.parse(m.data));
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
  function schedule() {
    state.retry = setTimeout(connect, state.backoff + Math.random() * 1000);
    state.backoff = Math.min(state.backoff * 2, 60000);
  }
  function reconnect() {
    const old = state.socket;
    state.socket = null;
    if (old) old.close();
    state.backoff = 1000;
    connect();
  }

  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = $('key-input').value.trim();
    if (!key) return;
    writeKey(key);
    $('key-input').value = '';
    $('key-form').hidden = true;
    refresh(true);
    reconnect();
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) refresh(false);
  });
  setInterval(() => {
    if (!document.hidden) refresh(false);
  }, POLL_MS);
  refresh(true);
  connect();
})();
`;
