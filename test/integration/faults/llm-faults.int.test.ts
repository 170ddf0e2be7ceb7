import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logger.js';
import { openStore } from '../../../src/storage/connect.js';
import { fixtureImage, missingAsset, modelPath } from '../../support/env.js';
import { ALERT_EVERY_EVENT_ENV, eventually, FinishedFiles, waitForSettledEvents } from '../../support/fault-checks.js';
import { backendsUnavailable, testEnvironment } from '../../support/hsi.js';
import { writeDistinctImages } from '../../support/images.js';
import { HsiProcess, type LogLine } from '../../support/process.js';
import { type LlmMode, SwitchableLlm } from '../../support/switchable-llm.js';

/**
 * The LLM goes down (connection refused), slow (answers after the 500 ms timeout) and garbage (HTML) in turn during
 * a burst, answering normally in between. Every closed batch still becomes exactly one event: source `llm` with the
 * answer the LLM gave, or `rules_fallback` after two failed tries whose errors say what failed.
 */

const BURST = 500;
const EVENTS_PER_PHASE = 3;
const PHASES: readonly LlmMode[] = ['ok', 'down', 'ok', 'slow', 'ok', 'garbage', 'ok'];
/** How each failing mode shows in the analysis audit (`attempt n (<kind>): …`). */
const FAILURE_KIND: Readonly<Record<string, string>> = { down: 'network', slow: 'timeout', garbage: 'invalid_output' };
const skip =
  missingAsset(modelPath('yolox_nano.onnx'), fixtureImage('person_astronaut.png')) ??
  (await backendsUnavailable('postgres+redis'));
if (skip) console.warn(`skipping LLM faults test: ${skip}`);

const isEvent = (l: LogLine) => l.msg === 'security event';

describe.skipIf(skip !== undefined)('LLM down, slow and answering garbage during a burst', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('turns every batch into one event, from the LLM or the rules fallback', { timeout: 180_000 }, async () => {
    const llm = await SwitchableLlm.start({ slowMs: 1500 });
    cleanups.push(() => llm.close());
    const { env, root, dropDatabase } = await testEnvironment('postgres+redis', {
      HSI_LOG_LEVEL: 'debug',
      HSI_INGEST_STABLE_MS: '300',
      HSI_INGEST_RECONCILE_INTERVAL_S: '3',
      HSI_BATCHING_IDLE_SECONDS: '2',
      HSI_BATCHING_WINDOW_SECONDS: '5',
      // Small batches: enough events to go through every phase.
      HSI_BATCHING_MAX_DETECTIONS: '4',
      HSI_ANALYSIS_PROVIDER: 'openai',
      HSI_ANALYSIS_URL: llm.url,
      HSI_ANALYSIS_MODEL: 'fake',
      HSI_ANALYSIS_TIMEOUT_MS: '500',
      ...ALERT_EVERY_EVENT_ENV,
    });
    cleanups.push(async () => {
      await dropDatabase();
      rmSync(root, { recursive: true, force: true });
    });
    const finished = new FinishedFiles();
    const hsi = HsiProcess.start(env);
    cleanups.push(async () => void hsi.child.kill('SIGKILL'));
    finished.follow(hsi, 110_000);
    await hsi.ready();

    // The phases run while the burst is still being written and processed.
    const written = writeDistinctImages(
      fixtureImage('person_astronaut.png'),
      path.join(env.HSI_MEDIA_ROOT!, 'Drive'),
      BURST,
    );
    const recoveries: string[] = [];
    for (const [i, mode] of PHASES.entries()) {
      const from = hsi.lines.length;
      const switchedAt = Date.now();
      await llm.setMode(mode);
      const events = () => hsi.lines.slice(from).filter(isEvent);
      await eventually(() => events().length >= EVENTS_PER_PHASE, 30_000, `${EVENTS_PER_PHASE} events in phase ${i}`);
      const previous = PHASES[i - 1];
      if (mode === 'ok' && previous !== undefined) {
        const first = events().find((l) => l.source === 'llm');
        const at = typeof first?.time === 'number' ? `${first.time - switchedAt} ms` : 'not within the phase';
        recoveries.push(`${previous}: first LLM event ${at} after the LLM answered again`);
      }
    }
    await written;
    await eventually(() => finished.size >= BURST, 60_000, `all ${BURST} files`);
    const store = await openStore({
      url: env.HSI_DATABASE_URL!,
      dataDir: env.HSI_DATA_DIR!,
      poolSize: 2,
      log: silentLogger(),
    });
    cleanups.push(() => store.close());
    // A visit opened by the fast path is analysed twice (opened, closed): twice the LLM calls of a batch, and the last
    // visits close only after their idle time, while the LLM may still be answering slowly.
    const report = await waitForSettledEvents(store.db, { timeoutMs: 90_000, alertsPerEvent: 1 });
    await hsi.kill('SIGTERM');

    const closed = new Set(hsi.lines.filter((l) => l.msg === 'batch closed').map((l) => String(l.batch_id)));
    // A visit opened by the fast path is analysed twice (opened, then the whole visit at close): one audit each.
    const analyses = await store.db
      .selectFrom('events as e')
      .innerJoin('event_audits as a', 'a.event_id', 'e.id')
      .select(['e.id', 'e.batch_id', 'a.analysis_source', 'a.llm_attempts', 'a.raw_response'])
      .execute();
    const events = await store.db.selectFrom('events').select(['id', 'batch_id', 'analysis_source']).execute();
    const fromLlm = events.filter((e) => e.analysis_source === 'llm').length;
    console.info(
      `LLM faults: ${report.events} events (${fromLlm} llm, ${events.length - fromLlm} rules_fallback); ` +
        `recovery after ${recoveries.join('; ')}`,
    );
    expect(events.map((e) => e.batch_id).sort()).toStrictEqual([...closed].sort());
    expect(events.length).toBe(report.events);

    const answered = new Set(
      llm.served.flatMap((s) => (s.mode === 'ok' && s.summary !== undefined ? [s.summary] : [])),
    );
    const wrong = analyses.filter((e) =>
      e.analysis_source === 'llm'
        ? ![...answered].some((summary) => (e.raw_response ?? '').includes(summary)) ||
          e.llm_attempts < 1 ||
          e.llm_attempts > 2
        : e.analysis_source !== 'rules_fallback' || e.llm_attempts !== 2,
    );
    expect(wrong).toStrictEqual([]);
    const fallbacks = analyses.filter((e) => e.analysis_source === 'rules_fallback');
    const kindsSeen = new Set(
      fallbacks.flatMap((e) => [...(e.raw_response ?? '').matchAll(/\(([a-z_]+)\):/g)].map((m) => m[1])),
    );
    expect([...kindsSeen].sort()).toStrictEqual(Object.values(FAILURE_KIND).sort());
    expect(fromLlm).toBeGreaterThanOrEqual(4 * EVENTS_PER_PHASE - 3);

    expect(finished.repeated).toStrictEqual([]);
    expect(report.files).toStrictEqual({ files: BURST, byStatus: { done: BURST }, mismatched: [], personFiles: BURST });
    expect(report.links).toStrictEqual({ rows: report.detections, detections: report.detections });
    expect(report.unlinked).toBe(0);
    expect(report.emptyEvents).toBe(0);
    expect(report.eventBatches).toBe(report.events);
    expect(report.miscounted).toStrictEqual([]);
    expect(report.duplicateAlerts).toStrictEqual([]);
    expect(report.alerts).toBe(report.events);
  });
});
