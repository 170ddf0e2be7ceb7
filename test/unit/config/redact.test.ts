import { describe, expect, it } from 'vitest';
import { REDACTED, redactConfig, redactSecrets, redactUrl } from '../../../src/config/redact.js';
import { schemaDefaults } from '../../../src/config/walk.js';

describe('redactConfig', () => {
  it('masks passwords in database and Redis URLs and leaves the rest', () => {
    const config = schemaDefaults();
    config.database.url = 'postgres://hsi:s3cret@db.lan:5432/hsi';
    config.redis.url = 'redis://:r3dis@cache:6379/0';
    const redacted = redactConfig(config);
    expect(redacted.database).toStrictEqual({
      url: `postgres://hsi:${REDACTED}@db.lan:5432/hsi`,
      pool_size: 10,
      embedded_cache_mb: 16,
    });
    expect(redacted.redis).toStrictEqual({ url: `redis://:${REDACTED}@cache:6379/0`, prefix: 'hsi' });
    expect(redacted.detector).toStrictEqual(config.detector);
    expect(JSON.stringify(redacted)).not.toMatch(/s3cret|r3dis/);
  });

  it('does not modify the configuration it is given', () => {
    const config = schemaDefaults();
    config.database.url = 'postgres://hsi:s3cret@db/hsi';
    redactConfig(config);
    expect(config.database.url).toBe('postgres://hsi:s3cret@db/hsi');
  });
});

describe('redactSecrets', () => {
  it('masks secret keys at any depth, including in lists', () => {
    const input = {
      mqtt: { url: 'mqtt://broker', username: 'ha', password: 'pw' },
      analysis: { api_key: 'sk-123', apiKey: 'sk-456', max_tokens: 512, token: '' },
      hooks: [{ secret: 'x', name: 'a' }],
    };
    expect(redactSecrets(input)).toStrictEqual({
      mqtt: { url: 'mqtt://broker', username: 'ha', password: REDACTED },
      analysis: { api_key: REDACTED, apiKey: REDACTED, max_tokens: 512, token: '' },
      hooks: [{ secret: REDACTED, name: 'a' }],
    });
  });
});

describe('redactUrl', () => {
  it.each([
    ['mqtts://user:pa:ss@broker:8883', `mqtts://user:${REDACTED}@broker:8883`],
    ['postgres://u:p@ss@host/db', `postgres://u:${REDACTED}@host/db`],
    ['postgres://postgres@127.0.0.1:5432/test', 'postgres://postgres@127.0.0.1:5432/test'],
    ['http://llm:8080/v1?api_key=abc&model=x', `http://llm:8080/v1?api_key=${REDACTED}&model=x`],
    ['postgres://db/hsi?sslmode=require&password=pw', `postgres://db/hsi?sslmode=require&password=${REDACTED}`],
    ['./data', './data'],
  ])('%s -> %s', (input, output) => {
    expect(redactUrl(input)).toBe(output);
  });
});
