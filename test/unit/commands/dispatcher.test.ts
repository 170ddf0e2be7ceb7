import { describe, expect, it } from 'vitest';
import { type CommandChannel, createCommandDispatcher } from '../../../src/commands/dispatcher.js';
import { COMMANDS } from '../../../src/commands/table.js';
import { CommandRefusal } from '../../../src/commands/types.js';
import { FakeClock } from '../../../src/lib/clock.js';
import { AppError } from '../../../src/lib/errors.js';
import { A1, FakeServices, NOW, recordingLogger } from '../mqtt/command-fakes.js';

function setup() {
  const services = new FakeServices();
  const { log, lines } = recordingLogger();
  const dispatcher = createCommandDispatcher({ services, log, clock: new FakeClock(NOW) });
  return { services, lines, dispatcher };
}

/** A channel with a login of its own and no trail: HTTP. */
const API: CommandChannel = { actor: 'api' };

describe('the command table', () => {
  it('has each command under its own name, says how MQTT answers it and where its resulting state comes from', () => {
    const rows = Object.entries(COMMANDS).map(([key, c]) => [key, c.name, c.answer, c.published]);
    expect(rows).toStrictEqual([
      ['alarm.set', 'alarm.set', 'state', 'bus'],
      ['alerts.acknowledge', 'alerts.acknowledge', 'response', 'bus'],
      ['alerts.dismiss', 'alerts.dismiss', 'response', 'bus'],
      ['cameras.detect.set', 'cameras.detect.set', 'state', 'bus'],
      ['zones.armed.set', 'zones.armed.set', 'state', 'bus'],
    ]);
  });
});

describe('a channel without a trail (HTTP)', () => {
  it('runs the handler as the channel actor, asks no alarm code, writes no rows or log lines of its own', async () => {
    const { services, lines, dispatcher } = setup();
    expect(await dispatcher.run('alarm.set', { mode: 'armed_away' }, API)).toStrictEqual({
      mode: 'armed_away',
      changed: true,
    });
    expect(await dispatcher.run('alerts.acknowledge', { all: true }, API)).toStrictEqual([expect.any(String), A1]);
    // The detection switch has no service audit: only a channel with a trail writes its row.
    expect(await dispatcher.run('cameras.detect.set', { camera_id: 'drive', on: false }, API)).toStrictEqual({
      enabled: false,
      previous: true,
    });
    expect(services.changes).toStrictEqual([
      'house armed_away by api',
      'acknowledged all by api: 2',
      'detect drive false',
    ]);
    expect(services.audits).toStrictEqual([]);
    expect(lines).toStrictEqual([]);
  });

  it('throws the refusal as it was, for the route to answer with its status code', async () => {
    const { services, dispatcher } = setup();
    const missing = dispatcher.run('zones.armed.set', { zone_id: 'attic', on: true }, API);
    await expect(missing).rejects.toStrictEqual(
      new AppError('NOT_FOUND', 'no zone with id attic', { permanent: true }),
    );
    await expect(dispatcher.run('cameras.detect.set', { camera_id: 'attic', on: true }, API)).rejects.toThrow(
      'no camera with id attic',
    );
    expect(services.changes).toStrictEqual([]);
  });

  it("checks the input against the command's schema before the handler runs", async () => {
    const { services, dispatcher } = setup();
    const bad: [Parameters<typeof dispatcher.dispatch>[0], unknown][] = [
      ['alarm.set', { mode: 'vacation' }],
      ['alarm.set', { mode: 'armed_away', extra: 1 }],
      ['alerts.acknowledge', { id: A1, all: true }],
      ['alerts.acknowledge', {}],
      ['alerts.dismiss', { all: false }],
      ['cameras.detect.set', { camera_id: 'drive', on: 'OFF' }],
      ['zones.armed.set', { zone_id: '', on: true }],
    ];
    for (const [name, input] of bad) {
      const outcome = await dispatcher.dispatch(name, input as never, API);
      expect([name, outcome.ok, outcome.ok ? undefined : (outcome.error as AppError).code]).toStrictEqual([
        name,
        false,
        'INVALID_INPUT',
      ]);
    }
    expect(services.changes).toStrictEqual([]);
  });
});

describe('a channel with a trail and an alarm code', () => {
  it("refuses what the channel's code check refuses, before the handler runs, and audits it", async () => {
    const { services, dispatcher } = setup();
    const channel: CommandChannel = {
      actor: 'panel',
      trail: { name: 'test', label: 'alarm', details: { via: 'unit' } },
      checkCode: (code) => {
        if (code !== '1') throw new CommandRefusal('wrong code');
      },
    };
    const refused = await dispatcher.dispatch('alarm.set', { mode: 'armed_away', code: '2' }, channel);
    expect(refused).toMatchObject({ ok: false, message: 'wrong code', states: [{ kind: 'alarm', value: 'disarmed' }] });
    expect(services.audits).toStrictEqual([
      {
        action: 'test.alarm.set',
        resourceType: 'house',
        resourceId: 'house',
        actor: 'panel',
        details: { via: 'unit', reason: 'wrong code' },
        status: 'failure',
        timestamp: new Date(NOW),
      },
    ]);
    expect(await dispatcher.dispatch('alarm.set', { mode: 'armed_away', code: '1' }, channel)).toStrictEqual({
      ok: true,
      data: { mode: 'armed_away', changed: true },
      states: [],
    });
    expect(services.changes).toStrictEqual(['house armed_away by panel']);
  });
});
