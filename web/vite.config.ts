import { defineConfig, type Plugin } from 'vite';

/**
 * What the build emits, and all the API serves (src/api/routes/ui.ts): the page and its script and stylesheet under
 * fixed names. Fixed, because the API links them as `ui/app.js?v=<hash of the content>` and lets them through without
 * the API key by exact path (src/api/auth.ts); a new file needs a route and its own public path there, so the build
 * refuses one (images and fonts are inlined as data: URLs instead, which the page's CSP allows for images only).
 */
export const OUTPUTS = ['index.html', 'ui/app.js', 'ui/app.css'] as const;

/** Where `npm run dev` sends `api/…` and `ws/…`: a running HSI (`npm start` in the repository root). */
const API = process.env.HSI_API_URL ?? 'http://127.0.0.1:8099';

/** The values the API writes into the page (see ui.ts), given plausible stand-ins by the dev server. */
const DEV_VALUES: Readonly<Record<string, string>> = {
  __HSI_VERSION__: 'dev',
  __HSI_CAMERA_OFFLINE_AFTER_S__: '3600',
};

function devPlaceholders(): Plugin {
  return {
    name: 'hsi-dev-placeholders',
    apply: 'serve',
    transformIndexHtml: (html) => html.replace(/__HSI_[A-Z_]+__/g, (name) => DEV_VALUES[name] ?? name),
  };
}

function onlyKnownOutputs(): Plugin {
  return {
    name: 'hsi-only-known-outputs',
    apply: 'build',
    enforce: 'post',
    // Checked once the bundle is written: Vite emits the page and the stylesheet late in its own generateBundle.
    writeBundle(_options, bundle) {
      const extra = Object.keys(bundle).filter((file) => !(OUTPUTS as readonly string[]).includes(file));
      const missing = OUTPUTS.filter((file) => !(file in bundle));
      if (extra.length > 0 || missing.length > 0) {
        this.error(
          `web build must emit exactly ${OUTPUTS.join(', ')} (the API serves only those): ` +
            `extra [${extra.join(', ')}], missing [${missing.join(', ')}]`,
        );
      }
    },
  };
}

export default defineConfig({
  // Relative URLs: the page is served at `/` and, in Home Assistant, under `/api/hassio_ingress/<token>/`.
  base: './',
  plugins: [devPlaceholders(), onlyKnownOutputs()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Everything in one script: no chunks to preload, so no polyfill for it either.
    modulePreload: { polyfill: false },
    assetsInlineLimit: Number.POSITIVE_INFINITY,
    cssCodeSplit: false,
    rollupOptions: {
      output: {
        entryFileNames: 'ui/app.js',
        chunkFileNames: 'ui/app-[name].js',
        assetFileNames: (asset) =>
          asset.names.some((name) => name.endsWith('.css')) ? 'ui/app.css' : 'ui/[name][extname]',
        inlineDynamicImports: true,
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: API },
      '/ws': { target: API, ws: true },
    },
  },
});
