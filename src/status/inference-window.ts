import { percentile } from '../lib/stats.js';

/** Recent inference times for the health sensor: a bounded window, percentiles on demand. */
export class InferenceWindow {
  private readonly values: number[] = [];
  private next = 0;

  constructor(private readonly size = 500) {}

  add(ms: number): void {
    if (this.values.length < this.size) this.values.push(ms);
    else this.values[this.next] = ms;
    this.next = (this.next + 1) % this.size;
  }

  percentiles(): { p50: number | null; p95: number | null } {
    if (this.values.length === 0) return { p50: null, p95: null };
    return { p50: percentile(this.values, 50), p95: percentile(this.values, 95) };
  }
}
