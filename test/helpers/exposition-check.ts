/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for
 * tests: parseExposition() returns every family with its samples, or throws
 * naming the line and the rule it breaks. Stricter than Prometheus where
 * ringrpc promises more: HELP then TYPE before a family's samples, each
 * once; no other comments, blank lines or timestamps; no trailing comma;
 * counters named *_total and never negative; no duplicate series; every
 * histogram with increasing `le` ending at +Inf, cumulative counts, and
 * _sum and _count after its buckets with _count equal to the +Inf bucket.
 */

export interface ParsedSample {
  /** The series name as written (a histogram's carries _bucket, _sum or _count). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  type: string;
  help: string;
  samples: ParsedSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(raw: string): number {
  if (raw === "+Inf") return Number.POSITIVE_INFINITY;
  if (raw === "-Inf") return Number.NEGATIVE_INFINITY;
  if (raw === "NaN") return Number.NaN;
  if (!FLOAT.test(raw)) throw new Error(`not a float: ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** Reads `{a="x",b="y"}` starting at text[i] === "{"; returns the labels and the index after "}". */
function parseLabels(text: string, i: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  i++;
  if (text[i] === "}") return { labels, end: i + 1 };
  for (;;) {
    const eq = text.indexOf("=", i);
    if (eq < 0) throw new Error("label without =");
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`bad label name ${JSON.stringify(name)}`);
    if (name.startsWith("__")) throw new Error(`reserved label name ${name}`);
    if (name in labels) throw new Error(`duplicate label ${name}`);
    if (text[eq + 1] !== '"') throw new Error(`label ${name}: value not quoted`);
    let j = eq + 2;
    let value = "";
    for (;;) {
      const c = text[j];
      if (c === undefined) throw new Error(`label ${name}: unterminated value`);
      if (c === "\\") {
        const n = text[j + 1];
        if (n === "\\") value += "\\";
        else if (n === '"') value += '"';
        else if (n === "n") value += "\n";
        else throw new Error(`label ${name}: bad escape \\${n ?? ""}`);
        j += 2;
      } else if (c === '"') break;
      else if (c === "\n") throw new Error(`label ${name}: raw newline in value`);
      else {
        value += c;
        j++;
      }
    }
    labels[name] = value;
    j++;
    if (text[j] === "}") return { labels, end: j + 1 };
    if (text[j] !== ",") throw new Error(`expected , or } after label ${name}`);
    if (text[j + 1] === "}") throw new Error("trailing comma in labels");
    i = j + 1;
  }
}

function seriesKey(name: string, labels: Record<string, string>): string {
  return `${name}{${Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(",")}}`;
}

export function parseExposition(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  if (text.length > 0 && !text.endsWith("\n")) throw new Error("exposition does not end with a newline");
  const lines = text.split("\n").slice(0, -1);
  let current: ParsedFamily | null = null;
  let pendingHelp: { name: string; help: string } | null = null;
  const seen = new Set<string>();
  lines.forEach((line, n) => {
    const at = (why: string) => new Error(`line ${n + 1}: ${why}: ${JSON.stringify(line)}`);
    if (line === "") throw at("blank line");
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      if (m === null) throw at("comment that is neither HELP nor TYPE");
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw at("bad metric name");
      if (families.has(name)) throw at(`${kind} for family ${name} seen before`);
      if (kind === "HELP") {
        if (pendingHelp !== null) throw at(`HELP for ${pendingHelp.name} has no TYPE`);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ""))) throw at("bad escape in HELP");
        pendingHelp = { name, help: rest };
        return;
      }
      if (pendingHelp === null || pendingHelp.name !== name) throw at("TYPE without its HELP line right before it");
      if (!TYPES.has(rest)) throw at(`unknown type ${rest}`);
      current = { name, type: rest, help: pendingHelp.help, samples: [] };
      families.set(name, current);
      pendingHelp = null;
      return;
    }
    if (current === null || pendingHelp !== null) throw at("sample before its family's HELP and TYPE");
    const fam: ParsedFamily = current;
    const brace = line.indexOf("{");
    const space = line.indexOf(" ");
    let name: string;
    let labels: Record<string, string> = {};
    let restAt: number;
    if (brace >= 0 && (space < 0 || brace < space)) {
      name = line.slice(0, brace);
      try {
        const r = parseLabels(line, brace);
        labels = r.labels;
        restAt = r.end;
      } catch (e) {
        throw at((e as Error).message);
      }
    } else {
      if (space < 0) throw at("sample without value");
      name = line.slice(0, space);
      restAt = space;
    }
    if (!NAME.test(name)) throw at("bad metric name");
    const allowed = fam.type === "histogram" ? [`${fam.name}_bucket`, `${fam.name}_sum`, `${fam.name}_count`] : [fam.name];
    if (!allowed.includes(name)) throw at(`sample ${name} outside its family ${fam.name} (families must be contiguous)`);
    const rest = line.slice(restAt);
    if (!rest.startsWith(" ") || rest.slice(1).includes(" ")) throw at("expected exactly one space and a value (no timestamp)");
    let value: number;
    try {
      value = parseValue(rest.slice(1));
    } catch (e) {
      throw at((e as Error).message);
    }
    const key = seriesKey(name, labels);
    if (seen.has(key)) throw at("duplicate series");
    seen.add(key);
    if (fam.type === "counter") {
      if (!fam.name.endsWith("_total")) throw at("counter not named *_total");
      if (!(value >= 0)) throw at("counter is negative or NaN");
    }
    fam.samples.push({ name, labels, value });
  });
  if (pendingHelp !== null) throw new Error(`HELP for ${(pendingHelp as { name: string }).name} has no TYPE`);
  for (const f of families.values()) {
    if (f.samples.length === 0) throw new Error(`family ${f.name} has no samples`);
    if (f.type === "histogram") checkHistogram(f);
  }
  return families;
}

function checkHistogram(f: ParsedFamily): void {
  const groups = new Map<string, { buckets: ParsedSample[]; sum: ParsedSample | null; count: ParsedSample | null; order: string[] }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = seriesKey("", rest);
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { buckets: [], sum: null, count: null, order: [] }));
    g.order.push(s.name);
    if (s.name.endsWith("_bucket")) {
      if (le === undefined) throw new Error(`${f.name}${key}: bucket without le`);
      if (g.sum !== null || g.count !== null) throw new Error(`${f.name}${key}: bucket after _sum or _count`);
      g.buckets.push(s);
    } else {
      if (le !== undefined) throw new Error(`${f.name}${key}: le on ${s.name}`);
      if (s.name.endsWith("_sum")) g.sum = s;
      else g.count = s;
    }
  }
  for (const [key, g] of groups) {
    const where = `${f.name}${key}`;
    if (g.buckets.length === 0) throw new Error(`${where}: no buckets`);
    if (g.sum === null || g.count === null) throw new Error(`${where}: _sum or _count missing`);
    let prevLe = Number.NEGATIVE_INFINITY;
    let prevCount = 0;
    for (const b of g.buckets) {
      const le = parseValue(b.labels.le!);
      if (!(le > prevLe)) throw new Error(`${where}: le ${b.labels.le} not increasing`);
      if (b.value < prevCount) throw new Error(`${where}: bucket le=${b.labels.le} holds ${b.value} < ${prevCount}: not cumulative`);
      prevLe = le;
      prevCount = b.value;
    }
    const last = g.buckets.at(-1)!;
    if (last.labels.le !== "+Inf") throw new Error(`${where}: last bucket is le=${last.labels.le}, not +Inf`);
    if (g.count.value !== last.value) throw new Error(`${where}: _count ${g.count.value} != +Inf bucket ${last.value}`);
    if (!(g.sum.value >= 0)) throw new Error(`${where}: negative _sum`);
  }
}

/** The value of the one sample of `family` whose labels include `labels` (throws when none or several match). */
export function sampleValue(families: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name.replace(/_(bucket|sum|count)$/, "")) ?? families.get(name);
  if (family === undefined) throw new Error(`no family for ${name}`);
  const hits = family.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length !== 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return hits[0]!.value;
}
