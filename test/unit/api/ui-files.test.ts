import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { loadUi, UI_CONTENT_SECURITY_POLICY, UI_PATHS, uiRoutes, WEB_DIST } from '../../../src/api/routes/ui.js';
import { VERSION } from '../../../src/version.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** What web/'s build emits, in its shape (web/vite.config.ts), with this page. */
const PAGE =
  '<!doctype html><html data-camera-offline-after-s="__HSI_CAMERA_OFFLINE_AFTER_S__"><head>' +
  '<script type="module" crossorigin src="./ui/app.js"></script><link rel="stylesheet" crossorigin href="./ui/app.css">' +
  '</head><body><footer>HSI __HSI_VERSION__</footer></body></html>';

function dist(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hsi-web-dist-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}
const BUILT = { 'index.html': PAGE, 'ui/app.js': 'console.log(1);\n', 'ui/app.css': 'body { margin: 0; }\n' };

describe('the web UI files', () => {
  it('are read from web/dist of the package, wherever HSI is started from', () => {
    expect(WEB_DIST).toBe(`${path.join(repoRoot, 'web', 'dist')}${path.sep}`);
  });

  it('fill in the version, the offline threshold and versioned relative links', () => {
    const files = loadUi(dist(BUILT), { cameraOfflineAfterS: 300 });
    expect(files.page.body).toBe(
      '<!doctype html><html data-camera-offline-after-s="300"><head>' +
        `<script type="module" crossorigin src="ui/app.js?v=${files.script.version}"></script>` +
        `<link rel="stylesheet" crossorigin href="ui/app.css?v=${files.styles.version}">` +
        `</head><body><footer>HSI ${VERSION}</footer></body></html>`,
    );
    expect([files.script.version, files.styles.version]).toStrictEqual([
      expect.stringMatching(/^[0-9a-f]{16}$/),
      expect.stringMatching(/^[0-9a-f]{16}$/),
    ]);
  });

  it('refuse a page that is not the shape web/ builds, naming what is off', () => {
    const noVersion = dist({ ...BUILT, 'index.html': PAGE.replace('__HSI_VERSION__', '') });
    expect(() => loadUi(noVersion, { cameraOfflineAfterS: 1 })).toThrow(/holds "__HSI_VERSION__" 0 times, not once/);
    const absolute = dist({ ...BUILT, 'index.html': PAGE.replace('./ui/app.js', '/ui/app.js') });
    expect(() => loadUi(absolute, { cameraOfflineAfterS: 1 })).toThrow(/holds "src=\\".\/ui\/app.js\\"" 0 times/);
  });

  it('missing: the page and its assets answer 503 saying how to build them, and the start logs it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hsi-web-none-'));
    const warnings: string[] = [];
    const app = Fastify();
    uiRoutes(app, {
      cameraOfflineAfterS: 3600,
      dir,
      log: { warn: (_fields: object, msg: string) => warnings.push(msg) },
    });
    try {
      for (const url of Object.values(UI_PATHS)) {
        const res = await app.inject({ url });
        expect([url, res.statusCode, res.headers['content-type'], res.headers['cache-control']]).toStrictEqual([
          url,
          503,
          'text/html; charset=utf-8',
          'no-store',
        ]);
        expect(res.headers['content-security-policy']).toBe(UI_CONTENT_SECURITY_POLICY);
        expect(res.body).toContain('<code>npm run build</code>');
        expect(res.body).toContain(dir);
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /^status page unavailable \(503 at \/\): The web UI is not built: \S+ lacks \S+index\.html\. Run `npm run build`/,
      );
    } finally {
      await app.close();
    }
  });
});
