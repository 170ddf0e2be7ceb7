import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusEvents } from '../../../src/domain/events.js';
import { FakeClock } from '../../../src/lib/clock.js';
import { EventBus } from '../../../src/lib/event-bus.js';
import { FailedLogins } from '../../../src/lib/failed-logins.js';
import { silentLogger } from '../../../src/lib/logger.js';
import type { QueueCounts } from '../../../src/queue/contracts.js';
import { SystemStatus } from '../../../src/status/system-status.js';
import { ensureCamera, touchCamera } from '../../../src/storage/camera.repository.js';
import { createTestStore, type TestStore } from '../../support/stores.js';

const counts = (c: Partial<QueueCounts>) => ({
  counts: async () => ({ waiting: 0, active: 0, delayed: 0, dead: 0, ...c }),
});

describe('the system-status read model (MQTT health sensor, /api/stats, /metrics) on pglite', () => {
  let t: TestStore;
  beforeAll(async () => {
    t = await createTestStore('pglite');
  });
  afterAll(async () => t?.dispose());

  it('reads queues, cameras online, refused logins, inference and LLM reachability as the health sensor shows them', async () => {
    const db = t.store.db;
    const clock = new FakeClock(Date.UTC(2026, 2, 1, 12));
    await ensureCamera(db, { id: 'yard', name: 'Yard', folderPath: 'Yard' });
    await ensureCamera(db, { id: 'drive', name: 'Drive', folderPath: 'Drive' });
    await touchCamera(db, 'yard', new Date(clock.now() - 10 * 60_000));
    await touchCamera(db, 'drive', new Date(clock.now() - 2 * 3600_000));
    const bus = new EventBus<BusEvents>(silentLogger());
    const logins = new FailedLogins();
    logins.register('ftp', () => 5);
    logins.register('mqtt', () => 2);
    logins.register('alarm_code', () => 1);
    let probes = 0;
    const status = new SystemStatus({
      db,
      queues: { detection: counts({ waiting: 3, active: 1 }), analysis: counts({ delayed: 2, dead: 4 }) },
      clock,
      bus,
      version: '9.9.9',
      timeZone: 'UTC',
      cameraOfflineAfterS: 3600,
      llm: {
        probe: async () => {
          probes += 1;
          return true;
        },
      },
      failedLogins: logins,
    });
    status.start();
    for (const ms of [10, 20, 30]) {
      bus.emit('media.processed', { timings: { inferenceMs: ms } } as BusEvents['media.processed']);
    }
    clock.advance(5000);
    const health = await status.health();
    await status.health();
    status.stop();
    expect(health).toStrictEqual({
      version: '9.9.9',
      uptimeS: 5,
      queues: { detection: 4, analysis: 2 },
      inferenceMs: { p50: 20, p95: expect.any(Number) },
      deadLetters: 4,
      camerasOnline: 1,
      camerasTotal: 2,
      llmReachable: true,
      eventsToday: 0,
      failedLogins: 3,
      ingest: null,
    });
    expect(probes).toBe(1);
    const stats = await status.stats();
    expect([stats.cameras, stats.activeAlerts, stats.queues.analysis?.dead]).toStrictEqual([
      { total: 2, online: 1 },
      0,
      4,
    ]);
    expect(status.failedLogins()).toStrictEqual({ ftp: 5, mqtt: 2, alarm_code: 1 });
  });
});
