import { describe, expect, it } from 'vitest';
import { OfflineQueue, type QueuedMessage } from '../../../src/mqtt/offline-queue.js';

const msg = (topic: string, payload: string, retain = false): QueuedMessage => ({ topic, payload, qos: 1, retain });
const payloads = (messages: QueuedMessage[]) => messages.map((m) => `${m.topic}=${m.payload}`);

describe('OfflineQueue', () => {
  it('drains in arrival order and is empty afterwards', () => {
    const q = new OfflineQueue(10);
    q.push(msg('a', '1'));
    q.push(msg('b', '2'));
    expect(q.size).toBe(2);
    expect(payloads(q.drain())).toStrictEqual(['a=1', 'b=2']);
    expect(q.size).toBe(0);
    expect(q.drain()).toStrictEqual([]);
  });

  it('drops the oldest messages first when full', () => {
    const q = new OfflineQueue(3);
    const results = ['1', '2', '3', '4', '5'].map((p) => q.push(msg('events', p)));
    expect(results.map((r) => r.dropped)).toStrictEqual([0, 0, 0, 1, 1]);
    expect(payloads(q.drain())).toStrictEqual(['events=3', 'events=4', 'events=5']);
  });

  it('keeps only the newest retained state per topic, at the position of the newest', () => {
    const q = new OfflineQueue(10);
    q.push(msg('state', 'one', true));
    q.push(msg('event', 'e1'));
    expect(q.push(msg('state', 'two', true))).toStrictEqual({ dropped: 0, replaced: true });
    q.push(msg('event', 'e2'));
    expect(payloads(q.drain())).toStrictEqual(['event=e1', 'state=two', 'event=e2']);
  });

  it('never merges non-retained messages: each is a distinct event', () => {
    const q = new OfflineQueue(10);
    q.push(msg('events', 'a'));
    expect(q.push(msg('events', 'b'))).toStrictEqual({ dropped: 0, replaced: false });
    expect(payloads(q.drain())).toStrictEqual(['events=a', 'events=b']);
  });

  it('a replaced retained message frees its slot, and a dropped retained one is forgotten', () => {
    const q = new OfflineQueue(2);
    q.push(msg('state', 'one', true));
    q.push(msg('event', 'e1'));
    expect(q.push(msg('state', 'two', true))).toStrictEqual({ dropped: 0, replaced: true });
    expect(q.push(msg('other', 'x'))).toStrictEqual({ dropped: 1, replaced: false });
    expect(q.push(msg('other', 'y'))).toStrictEqual({ dropped: 1, replaced: false });
    expect(q.push(msg('state', 'three', true))).toStrictEqual({ dropped: 1, replaced: false });
    expect(payloads(q.drain())).toStrictEqual(['other=y', 'state=three']);
  });

  it('keeps nothing with a maximum of 0', () => {
    const q = new OfflineQueue(0);
    expect(q.push(msg('a', '1'))).toStrictEqual({ dropped: 1, replaced: false });
    expect(q.size).toBe(0);
  });
});
