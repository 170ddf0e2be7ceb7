import type { Logger } from '../lib/logger.js';

/** Long-lived parts register how to stop; stopping runs them in reverse order, logging (not throwing) failures. */
export class StopStack {
  private readonly steps: { name: string; stop: () => Promise<void> }[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly log: Logger) {}

  push(name: string, stop: () => Promise<void>): void {
    this.steps.push({ name, stop });
  }

  unwind(): Promise<void> {
    this.stopping ??= (async () => {
      for (const step of this.steps.reverse()) {
        try {
          await step.stop();
        } catch (error) {
          this.log.warn({ err: error, part: step.name }, 'stop failed');
        }
      }
    })();
    return this.stopping;
  }
}
