/**
 * The status page's stylesheet, served as `/ui/app.css`. A string in a TypeScript module (not a .css file) because
 * `tsc` copies only .ts into dist/, which is what the image ships. Served separately so the page's CSP can forbid
 * inline styles; light and dark follow `prefers-color-scheme`.
 */
export const UI_STYLES = `:root {
  color-scheme: light dark;
  --bg: #f4f5f7; --card: #fff; --fg: #1c1f23; --muted: #69717d; --line: #e2e5e9; --accent: #2563eb;
  --ok: #16a34a; --warn: #d97706; --bad: #dc2626;
  --low: #64748b; --medium: #ca8a04; --high: #ea580c; --critical: #dc2626;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #101214; --card: #1a1d21; --fg: #e5e7ea; --muted: #9aa2ad; --line: #2a2f35; --accent: #60a5fa;
    --ok: #22c55e; --warn: #f59e0b; --bad: #f87171;
    --low: #94a3b8; --medium: #facc15; --high: #fb923c; --critical: #f87171;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display: flex; align-items: center; gap: 8px; padding: 10px 16px; background: var(--card);
  border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 1; }
h1 { font-size: 17px; margin: 0 auto 0 0; }
h2 { font-size: 13px; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(290px, 1fr)); gap: 12px; padding: 12px;
  max-width: 1200px; margin: 0 auto; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; min-width: 0; }
.wide { grid-column: 1 / -1; }
.pill { font-size: 12px; padding: 2px 8px; border-radius: 999px; border: 1px solid currentColor; white-space: nowrap; }
.ok { color: var(--ok); } .warn { color: var(--warn); } .bad { color: var(--bad); }
.muted { color: var(--muted); } .small { font-size: 12px; }
.count { color: var(--bad); margin-left: 4px; }
.error { color: var(--bad); margin: 12px auto 0; padding: 0 16px; max-width: 1200px; }
ul { list-style: none; margin: 0; padding: 0; }
li.row, li.event, .cams li { border-top: 1px solid var(--line); }
li.row:first-child, li.event:first-child, .cams li:first-child { border-top: 0; }
.row, .cams li { display: flex; align-items: center; gap: 8px; padding: 7px 0; }
.grow { flex: 1; min-width: 0; display: flex; flex-direction: column; }
.summary { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.dot { width: 9px; height: 9px; border-radius: 50%; background: currentColor; flex: none; }
.lvl { width: 4px; align-self: stretch; border-radius: 2px; flex: none; background: var(--low); }
.lvl-medium { background: var(--medium); } .lvl-high { background: var(--high); } .lvl-critical { background: var(--critical); }
.level { font-size: 12px; flex: none; color: var(--low); }
.level-medium { color: var(--medium); } .level-high { color: var(--high); } .level-critical { color: var(--critical); }
button { font: inherit; color: inherit; background: transparent; border: 1px solid var(--line); border-radius: 6px;
  padding: 4px 10px; cursor: pointer; }
button:hover { border-color: var(--accent); }
button:disabled { opacity: .5; cursor: default; }
button.on { background: var(--accent); border-color: var(--accent); color: #fff; }
.modes { display: grid; grid-template-columns: repeat(4, 1fr); gap: 6px; }
.event-row { display: flex; gap: 8px; width: 100%; text-align: left; border: 0; border-radius: 0; padding: 7px 0; }
.link { border: 0; padding: 0; color: var(--accent); }
.detail { padding: 0 0 10px 12px; }
.detail p { margin: 4px 0; }
.dets li { padding: 2px 0; }
.shot { display: block; max-width: 100%; max-height: 60vh; margin-top: 8px; border-radius: 6px; }
form.key { margin: 12px auto 0; max-width: 420px; display: flex; flex-direction: column; gap: 8px; }
form.key div { display: flex; gap: 6px; }
input { font: inherit; color: inherit; background: var(--bg); border: 1px solid var(--line); border-radius: 6px;
  padding: 5px 8px; flex: 1; min-width: 0; }
footer { text-align: center; padding: 4px 16px 16px; }
[hidden] { display: none !important; }
@media (max-width: 480px) { main { padding: 8px; gap: 8px; } header { padding: 8px 10px; } }
`;
