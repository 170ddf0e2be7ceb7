#!/usr/bin/env node
// The `hsi` command. In a checkout (src/ present and tsx installed, as after `npm ci`) it runs the TypeScript
// sources through tsx in this same process, so it works before any build and is never a stale build. Where only the
// build ships (the published package, the Docker image: no src/, no dev dependencies) it runs dist/cli.js.
// One process either way: no wrapper in between to forward signals twice or to lose the exit status.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli.ts', import.meta.url);
const built = new URL('../dist/cli.js', import.meta.url);

async function tsxApi() {
  try {
    return await import('tsx/esm/api');
  } catch (error) {
    if (error?.code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

const tsx = existsSync(source) ? await tsxApi() : undefined;
if (tsx !== undefined) {
  tsx.register();
  await import(source.href);
} else if (existsSync(built)) {
  await import(built.href);
} else {
  process.stderr.write(
    'hsi: neither dist/cli.js (run `npm run build`) nor the sources with tsx (run `npm ci`) are here\n',
  );
  process.exit(1);
}
