/**
 * MetricsAggregator: the main thread's sum over every worker's report, one
 * scrape at a time, kept monotonic. Counters are summed over the last report
 * of every worker ever seen, plus what restarted workers had counted before
 * they died (a worker whose `instance` changed hands its previous counters
 * to `retired`), so a restart never makes a total go backwards: only the
 * calls a worker counted between its last scrape and its death are lost.
 * Gauges are summed over the workers that answered this scrape. Per-worker
 * series (the runtime's, labelled worker="N") are simply kept apart by
 * their labels. Owns this state; holds no lock (one thread) and shares
 * nothing with the workers.
 */
import type { WorkerReport } from "../../runtime/launch-api.ts";
import { callSamples, runtimeSamples, type Sample, sampleKey, serverSamples } from "./samples.ts";
import { isWorkerMetricsReport } from "./worker-report.ts";

export class MetricsAggregator {
  /** Per worker ("process/worker"): its instance and its counter samples at its last report. */
  private readonly last = new Map<string, { instance: string; counters: Sample[] }>();
  /** Counters of worker instances that were replaced (restarted). */
  private readonly retired = new Map<string, Sample>();

  /** The summed samples of this scrape; `supervised` adds a process label to per-worker series. */
  aggregate(reports: readonly WorkerReport[], supervised = false): Sample[] {
    const total = new Map<string, Sample>();
    const gauges: Sample[] = [];
    for (const r of reports) {
      const data = r.data;
      if (!isWorkerMetricsReport(data)) continue;
      const who: [string, string][] = supervised ? [["process", String(r.process)], ["worker", String(r.worker)]] : [["worker", String(r.worker)]];
      const samples = [
        ...(data.server === null || data.server.calls === null ? [] : callSamples("grpc_server", data.server.calls)),
        ...(data.server === null ? [] : serverSamples(data.server)),
        ...runtimeSamples(who, data.driver, data.runtime),
      ];
      const key = `${r.process}/${r.worker}`;
      const prev = this.last.get(key);
      if (prev !== undefined && prev.instance !== data.instance) addInto(this.retired, prev.counters);
      this.last.set(key, { instance: data.instance, counters: samples.filter((s) => s.counter) });
      for (const s of samples) if (!s.counter) gauges.push(s);
    }
    // Counters first in catalog order is not needed: the exposition groups by family.
    for (const { counters } of this.last.values()) addInto(total, counters);
    addInto(total, this.retired.values());
    addInto(total, gauges);
    return [...total.values()];
  }
}

function addInto(into: Map<string, Sample>, samples: Iterable<Sample>): void {
  for (const s of samples) {
    const key = sampleKey(s);
    const have = into.get(key);
    if (have === undefined) into.set(key, { ...s });
    else have.value += s.value;
  }
}
