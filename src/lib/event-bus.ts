import type { Logger } from './logger.js';

/** `remote`: the event happened in another HSI process and reached this one through the Redis relay. */
export interface EventMeta {
  remote: boolean;
}

type Listener<T> = (payload: T, meta: EventMeta) => void | Promise<void>;

const LOCAL: EventMeta = { remote: false };

/**
 * A typed in-process event bus. Listener errors (thrown or rejected) are logged and never reach the emitter or
 * other listeners: one broken subscriber must not stop detection or storage.
 */
export class EventBus<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  constructor(private readonly log: Logger) {}

  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  emit<K extends keyof Events>(name: K, payload: Events[K], meta: EventMeta = LOCAL): void {
    const set = this.listeners.get(name);
    if (set === undefined) return;
    for (const listener of set) {
      try {
        const result = (listener as Listener<Events[K]>)(payload, meta);
        if (result instanceof Promise) {
          result.catch((error: unknown) => this.reportListenerError(name, error));
        }
      } catch (error) {
        this.reportListenerError(name, error);
      }
    }
  }

  listenerCount(name: keyof Events): number {
    return this.listeners.get(name)?.size ?? 0;
  }

  removeAll(): void {
    this.listeners.clear();
  }

  private reportListenerError(name: keyof Events, error: unknown): void {
    this.log.error({ err: error, event: String(name) }, 'event bus listener failed');
  }
}
