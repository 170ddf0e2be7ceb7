/** What the page links to: relative URLs (with a cache-busting query) and the version shown in the footer. */
export interface PageAssets {
  script: string;
  styles: string;
  version: string;
  /** `homeassistant.camera_offline_after_s`: the script reads it from the root element. */
  cameraOfflineAfterS: number;
}

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** HTML-escapes text for an element or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/**
 * The status page's HTML: an empty shell that `ui/app.js` fills from the API. Every URL is relative so the page
 * works under the Home Assistant ingress prefix (`/api/hassio_ingress/<token>/`) as well as at `/`; no inline
 * script or style, so the Content-Security-Policy can forbid them: settings the script needs ride on the root
 * element as data attributes.
 */
export function pageHtml(assets: PageAssets): string {
  return `<!doctype html>
<html lang="en" data-camera-offline-after-s="${escapeHtml(String(assets.cameraOfflineAfterS))}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>HSI</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${escapeHtml(assets.styles)}">
<script src="${escapeHtml(assets.script)}" defer></script>
</head>
<body>
<header>
  <h1>HSI</h1>
  <span id="live" class="pill muted" title="Live updates">connecting</span>
  <span id="health" class="pill muted" title="System health">…</span>
</header>
<form id="key-form" class="card key" hidden>
  <label for="key-input" id="key-hint">This HSI needs its API key.</label>
  <div><input id="key-input" type="password" autocomplete="current-password" required><button type="submit">Save</button></div>
</form>
<p id="error" class="error" role="alert" hidden></p>
<main>
  <section class="card"><h2>Arming</h2><div id="modes" class="modes"></div><p id="arming-info" class="muted small"></p></section>
  <section class="card"><h2>Alerts<span id="alert-count" class="count"></span></h2><ul id="alerts"></ul></section>
  <section class="card"><h2>Cameras</h2><ul id="cameras" class="cams"></ul></section>
  <section class="card"><h2>System</h2><ul id="system"></ul></section>
  <section class="card wide"><h2>Recent events</h2><ul id="events"></ul></section>
</main>
<footer class="muted small">HSI ${escapeHtml(assets.version)}</footer>
</body>
</html>
`;
}
