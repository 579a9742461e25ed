/**
 * The Prometheus text exposition format (version 0.0.4): `# HELP` and
 * `# TYPE` once per family, then its samples, every family's series
 * together, a histogram's buckets in increasing `le` ending with +Inf,
 * then its _sum and _count. Owns the text only: samples come from
 * samples.ts, families from catalog.ts.
 */
import type { Family } from "./catalog.ts";
import type { Sample } from "./samples.ts";

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** HELP text escapes backslash and newline. */
function helpText(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}

/** The `le` bound of a bucket's labels, for ordering (+Inf last). */
function bucketBound(labels: string): number {
  const m = /(?:^|,)le="([^"]*)"$/.exec(labels);
  return m === null ? Number.NaN : m[1] === "+Inf" ? Number.POSITIVE_INFINITY : Number(m[1]);
}

/** The labels of a histogram's series without `le`: which histogram of the family it belongs to. */
function histogramOf(s: Sample): string {
  return s.suffix === "_bucket" ? s.labels.replace(/,?le="[^"]*"$/, "") : s.labels;
}

/** The text of `samples`, family by family in `families` order; a family without samples is left out, a sample of an unknown family throws. */
export function exposition(families: readonly Family[], samples: readonly Sample[]): string {
  const byFamily = new Map<string, Sample[]>();
  for (const f of families) byFamily.set(f.name, []);
  for (const s of samples) {
    const list = byFamily.get(s.family);
    if (list === undefined) throw new Error(`metrics: sample of unknown family ${s.family}`);
    list.push(s);
  }
  let out = "";
  for (const f of families) {
    const list = byFamily.get(f.name)!;
    if (list.length === 0) continue;
    out += `# HELP ${f.name} ${helpText(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
    if (f.type !== "histogram") {
      for (const s of list) out += `${f.name}${s.labels === "" ? "" : `{${s.labels}}`} ${formatValue(s.value)}\n`;
      continue;
    }
    const histograms = new Map<string, { buckets: Sample[]; sum: Sample | null; count: Sample | null }>();
    for (const s of list) {
      const key = histogramOf(s);
      let h = histograms.get(key);
      if (h === undefined) histograms.set(key, (h = { buckets: [], sum: null, count: null }));
      if (s.suffix === "_bucket") h.buckets.push(s);
      else if (s.suffix === "_sum") h.sum = s;
      else h.count = s;
    }
    for (const [labels, h] of histograms) {
      h.buckets.sort((a, b) => bucketBound(a.labels) - bucketBound(b.labels));
      const braces = labels === "" ? "" : `{${labels}}`;
      for (const b of h.buckets) out += `${f.name}_bucket{${b.labels}} ${formatValue(b.value)}\n`;
      out += `${f.name}_sum${braces} ${formatValue(h.sum?.value ?? 0)}\n`;
      out += `${f.name}_count${braces} ${formatValue(h.count?.value ?? 0)}\n`;
    }
  }
  return out;
}
