/**
 * `homeassistant.camera_offline_after_s`, as the API writes it on the page's root element
 * (`data-camera-offline-after-s`; the CSP allows no inline script to pass it otherwise), in ms: the status page calls
 * a camera offline when Home Assistant's connectivity sensor does. The configuration's default (an hour) when absent
 * or not a positive number.
 */
export function offlineAfterMs(attribute: string | undefined): number {
  const seconds = Number(attribute);
  return (attribute && Number.isFinite(seconds) && seconds > 0 ? seconds : 3600) * 1000;
}

/** Time of day and date, in the browser's locale; empty for none. */
export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '';
}

/** `just now`, `5 min ago`, `3 h ago`, then the date. */
export function ago(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

/** base64url of the UTF-8 text (the WebSocket carries the API key as the subprotocol `hsi-key.<this>`). */
export function base64url(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).split('+').join('-').split('/').join('_').replace(/=+$/, '');
}
