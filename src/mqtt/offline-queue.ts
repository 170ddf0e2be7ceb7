/**
 * Messages waiting for the broker: bounded (the oldest is dropped first when full), and a retained message for a
 * topic replaces an older queued retained message for the same topic (only the newest state matters). Non-retained
 * messages (event streams) are never merged: each one is a distinct event. Pure: no I/O, no timers.
 */

export interface QueuedMessage {
  topic: string;
  payload: string | Buffer;
  qos: 0 | 1;
  retain: boolean;
}

export interface EnqueueResult {
  /** Older messages that were pushed out because the queue was full. */
  dropped: number;
  /** True when an older retained message for the same topic was replaced. */
  replaced: boolean;
}

export class OfflineQueue {
  private readonly entries = new Map<number, QueuedMessage>();
  private readonly retainedByTopic = new Map<string, number>();
  private seq = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Queues `message`; with a maximum of 0 nothing is kept (the message itself counts as dropped). */
  push(message: QueuedMessage): EnqueueResult {
    if (this.max <= 0) return { dropped: 1, replaced: false };
    let replaced = false;
    if (message.retain) {
      const older = this.retainedByTopic.get(message.topic);
      if (older !== undefined) {
        this.entries.delete(older);
        replaced = true;
      }
    }
    let dropped = 0;
    while (this.entries.size >= this.max) {
      this.dropOldest();
      dropped++;
    }
    const id = this.seq++;
    this.entries.set(id, message);
    if (message.retain) this.retainedByTopic.set(message.topic, id);
    return { dropped, replaced };
  }

  /** Removes and returns every queued message, oldest first. */
  drain(): QueuedMessage[] {
    const all = [...this.entries.values()];
    this.entries.clear();
    this.retainedByTopic.clear();
    return all;
  }

  private dropOldest(): void {
    const first = this.entries.entries().next();
    if (first.done) return;
    const [id, message] = first.value;
    this.entries.delete(id);
    if (message.retain && this.retainedByTopic.get(message.topic) === id) this.retainedByTopic.delete(message.topic);
  }
}
