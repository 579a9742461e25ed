/**
 * `npm run fuzz`: the long-running front of the mutation fuzzer.
 *
 *   npm run fuzz -- [--minutes N] [--seed S]   run for N minutes (default 1) from seed S (default random)
 *   npm run fuzz -- --cases N [--seed S]       run exactly N cases
 *   npm run fuzz -- --seed S --case I          replay case I of seed S
 *   npm run fuzz -- --target T --hex H [--limit L] [--stop K] [--splits a,b,...]
 *                                              replay a raw input (a report's shrunk hex) through T's oracle
 *
 * Prints cases/s as it goes and every distinct failure (target, stage,
 * property) once, with its seed, case, input and replay commands; exits 1
 * when there was any. Owns argument parsing and printing; the work is in
 * supervisor.ts and the Worker.
 */
import { FRAMES, targetName } from "./cases.ts";
import { describeCuts } from "./frame-oracle.ts";
import { hexDump } from "./hexdump.ts";
import { formatReport } from "./report.ts";
import { replayCase, replayRaw } from "./replay.ts";
import { supervise } from "./supervisor.ts";

const USAGE = "usage: npm run fuzz -- [--minutes N | --cases N] [--seed S] | --seed S --case I | --target T --hex H [--limit L] [--stop K] [--splits a,b]";
/** A case running this long is reported as a hang. */
const STALL_MS = 30_000;
const BATCH = 1000;
const PROGRESS_EVERY_MS = 10_000;

function parseArgs(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--") || i + 1 >= argv.length) throw new Error(`bad argument ${a}\n${USAGE}`);
    out.set(a.slice(2), argv[++i]!);
  }
  const known = new Set(["minutes", "cases", "seed", "case", "target", "hex", "limit", "stop", "splits"]);
  for (const k of out.keys()) if (!known.has(k)) throw new Error(`unknown option --${k}\n${USAGE}`);
  return out;
}

function num(args: Map<string, string>, key: string, fallback: number): number {
  const v = args.get(key);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${key} needs a number, got ${v}`);
  return n;
}

function replayOne(args: Map<string, string>): number {
  if (args.has("hex")) {
    const target = args.get("target") ?? FRAMES;
    const bytes = Uint8Array.from(Buffer.from(args.get("hex")!, "hex"));
    const splits = (args.get("splits") ?? "").split(",").filter((s) => s !== "").map(Number);
    const f = replayRaw({ target, bytes, limit: num(args, "limit", 4 * 1024 * 1024), stopAfter: num(args, "stop", -1), splits });
    console.log(`${target}, ${bytes.length} bytes:\n${hexDump(bytes)}`);
    console.log(f === null ? "passes: every property holds" : `FAIL ${f.property}\n  ${f.detail}`);
    return f === null ? 0 : 1;
  }
  const seed = num(args, "seed", 0);
  const index = num(args, "case", 0);
  const { c, failure } = replayCase(seed, index);
  console.log(`seed ${seed}, case ${index}: ${targetName(c)}; mutations: ${c.ops.join(", ")}`);
  if (c.kind === "frames") console.log(`frame limit ${c.limit}, stop after ${c.stopAfter}, cuts ${describeCuts(c.splits, c.input.length)}`);
  console.log(hexDump(c.input));
  console.log(failure === null ? "passes: every property holds" : `FAIL ${failure.property} (${failure.stage})\n  ${failure.detail}`);
  return failure === null ? 0 : 1;
}

async function longRun(args: Map<string, string>): Promise<number> {
  const seed = num(args, "seed", Math.floor(Math.random() * 0x100000000)) >>> 0;
  const cases = args.has("cases") ? num(args, "cases", 0) : Number.POSITIVE_INFINITY;
  const minutes = num(args, "minutes", args.has("cases") ? Number.POSITIVE_INFINITY : 1);
  const started = performance.now();
  console.log(`fuzz: seed ${seed}, ${Number.isFinite(cases) ? `${cases} cases` : `${minutes} minute(s)`} (replay any case with --seed ${seed} --case I)`);
  let lastPrint = started;
  const result = await supervise({
    tasks: [{ seed, from: 0, count: cases }],
    batch: BATCH,
    stallMs: STALL_MS,
    untilMs: Number.isFinite(minutes) ? started + minutes * 60_000 : undefined,
    onFailure: (r) => console.log(`\n${formatReport(r)}\n`),
    onBatch: (_, t) => {
      const now = performance.now();
      if (now - lastPrint < PROGRESS_EVERY_MS) return;
      lastPrint = now;
      console.log(`fuzz: ${t.cases} cases, ${Math.round(t.cases / (t.elapsedMs / 1000))} cases/s, ${t.failures.length} distinct failure(s)`);
    },
  });
  const secs = result.elapsedMs / 1000;
  console.log(`\nfuzz: seed ${seed}: ${result.cases} cases in ${secs.toFixed(1)} s (${Math.round(result.cases / secs)} cases/s)`);
  console.log(`  targets: ${Object.keys(result.perTarget).length} (${result.perTarget[FRAMES] ?? 0} frame-stream cases)`);
  console.log(`  outcomes: ${Object.entries(result.outcomes).sort().map(([k, v]) => `${k} ${v}`).join(", ")}`);
  if (result.failures.length === 0) {
    console.log("  no failures");
    return 0;
  }
  console.log(`  ${result.failures.length} distinct failure(s):`);
  for (const f of result.failures) console.log(`    ${f.target}: ${f.property} (${f.stage}), seed ${f.seed} case ${f.index}`);
  return 1;
}

try {
  const args = parseArgs(process.argv.slice(2));
  const replay = args.has("case") || args.has("hex");
  process.exit(replay ? replayOne(args) : await longRun(args));
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(2);
}
