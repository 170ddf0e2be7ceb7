import { describe, expect, it } from 'vitest';
import { deserializeError, parseThreadLogLine, serializeError } from '../../../src/detection/detector-protocol.js';
import { AppError, permanentError } from '../../../src/lib/errors.js';

describe('detector thread protocol', () => {
  it('carries an AppError across with its code and permanence', () => {
    const back = deserializeError(serializeError(permanentError('MEDIA_CORRUPT', 'truncated')));
    expect(back).toBeInstanceOf(AppError);
    expect(back).toMatchObject({ code: 'MEDIA_CORRUPT', permanent: true, message: 'truncated' });
    expect(deserializeError(serializeError(new AppError('TRANSIENT', 'busy')))).toMatchObject({ permanent: false });
  });

  it('turns any other error into a plain, retryable Error', () => {
    const back = deserializeError(serializeError(new TypeError('boom')));
    expect(back).not.toBeInstanceOf(AppError);
    expect(back.message).toBe('boom');
    expect(serializeError('text')).toStrictEqual({ code: undefined, message: 'text', permanent: false });
  });

  it('splits a pino line into level, fields and message, dropping what the main logger adds itself', () => {
    const line = JSON.stringify({ level: 40, time: 1, pid: 2, hostname: 'h', app: 'hsi', component: 'x', msg: 'hi' });
    expect(parseThreadLogLine(line)).toStrictEqual({ level: 'warn', fields: { component: 'x' }, msg: 'hi' });
  });

  it('does not take a line that is not a pino record', () => {
    expect(parseThreadLogLine('not json')).toBeUndefined();
    expect(parseThreadLogLine('42')).toBeUndefined();
    expect(parseThreadLogLine(JSON.stringify({ level: 'loud', msg: 'x' }))).toBeUndefined();
  });
});
