/**
 * Latency samples of the JS load client: every completed call's latency in
 * microseconds, kept exactly (a growable Float64Array) and turned into the
 * percentiles bench/loadgen reports (p50, p90, p99, p99.9, max, mean). A
 * percentile is the smallest sample with at least that share of samples at
 * or below it (nearest rank). Owns no timing and no I/O.
 */

export interface LatencySummaryUs {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

const INITIAL_CAPACITY = 1 << 16;

export class LatencySamples {
  private samples = new Float64Array(INITIAL_CAPACITY);
  private n = 0;

  get count(): number {
    return this.n;
  }

  record(us: number): void {
    if (this.n === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.n++] = us;
  }

  clear(): void {
    this.n = 0;
  }

  summary(): LatencySummaryUs {
    if (this.n === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
    const sorted = this.samples.slice(0, this.n).sort();
    const at = (q: number): number => sorted[Math.min(this.n - 1, Math.max(0, Math.ceil(q * this.n) - 1))] as number;
    let sum = 0;
    for (let i = 0; i < this.n; i++) sum += sorted[i] as number;
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: sorted[this.n - 1] as number, mean: sum / this.n };
  }
}
