import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Where the shared models and fixture photos live (`HSI_ASSETS_DIR`, default `../shared` beside the checkout).
 * Tests never copy them into the repo.
 */
export function assetsDir(): string {
  return path.resolve(process.env.HSI_ASSETS_DIR ?? path.join(process.cwd(), '..', 'shared'));
}

export function modelPath(file: string): string {
  return path.join(assetsDir(), 'models', file);
}

export function fixtureImage(file: string): string {
  return path.join(assetsDir(), 'fixtures', 'images', file);
}

/**
 * Returns a reason to skip when an asset is missing, or undefined when present. Under `REQUIRE_ASSETS=1` (CI)
 * a missing asset is an error instead, so CI can never pass by skipping.
 */
export function missingAsset(...files: string[]): string | undefined {
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length === 0) return undefined;
  const reason = `assets missing (${missing.join(', ')}); set HSI_ASSETS_DIR`;
  if (process.env.REQUIRE_ASSETS === '1') throw new Error(`REQUIRE_ASSETS=1 but ${reason}`);
  return reason;
}

export const requireServices = process.env.REQUIRE_SERVICES === '1';

export const services = {
  postgresUrl: process.env.HSI_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  redisUrl: process.env.HSI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  mqttUrl: process.env.HSI_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883',
};

/** Debian's jemalloc, which the container image preloads (Dockerfile); undefined where it is not installed. */
export function jemallocLibrary(): string | undefined {
  const file = `/usr/lib/${os.arch() === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/libjemalloc.so.2`;
  return existsSync(file) ? file : undefined;
}
