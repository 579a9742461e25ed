/**
 * Command-line options of the RPC matrix (bench/run.ts): defaults, parsing
 * and the usage text. Owns nothing that runs.
 */
import { RPC_CONTENDERS } from "./rpc-contenders.ts";

export interface MatrixOptions {
  contenders: string[];
  depths: number[];
  method: "echo" | "text" | "add" | "order";
  size: number;
  conns: number;
  durationS: number;
  warmupS: number;
  reps: number;
  /** Fixed rate for the main matrix (req/s over all connections); 0 = closed loop. */
  rate: number;
  serverCpu: number;
  loadgenCpu: number;
  /** Skip the main matrix (run only the extra measurements asked for). */
  matrix: boolean;
  /** --cpu-at-rate: the fixed rate, or 0 = not asked for. */
  cpuAtRate: number;
  /** --idle-conns: connections to hold, or 0 = not asked for. */
  idleConns: number;
  scaling: boolean;
  codec: boolean;
  quick: boolean;
  /** The 1-connection section: every server at depth 1 under bench/loadgen (latency-section.ts). */
  latency: boolean;
  /** JS-client runs inside the 1-connection section. */
  jsClient: boolean;
  /** Depths of the JS-client runs (bench/loadgen runs beside them on the same servers). */
  jsDepths: number[];
  /** Measured seconds per 1-connection run; null = the smaller of durationS and DEFAULT_LATENCY_DURATION_S. */
  latencyDurationS: number | null;
}

export const METHODS = ["echo", "text", "add", "order"] as const;
export const DEFAULT_CPU_AT_RATE = 50_000;
export const DEFAULT_IDLE_CONNS = 10_000;
export const DEFAULT_LATENCY_DURATION_S = 2;
/** Warm-up of a 1-connection run: at most this, since its server is already warm from the runs before. */
export const MAX_LATENCY_WARMUP_S = 0.5;
const QUICK_IDLE_CONNS = 500;

export const USAGE = `usage: bun bench/run.ts [options]          (also: bun run bench [options], ringrpc bench [options])
  --contenders a,b     ${RPC_CONTENDERS.map((c) => c.name).join(",")} (default: all)
  --depths 1,32        requests in flight per connection (default 1,32)
  --method echo        echo|text|add|order (bench.v1.Bench unary method; default echo)
  --size 64            payload bytes for echo/text (default 64)
  --conns 16           connections (default 16)
  --duration 5         measured seconds per run (default 5)
  --warmup 1           warm-up seconds before each measurement (default 1)
  --reps 3             repetitions, contenders interleaved A B C A B C (default 3)
  --rate R             fixed-rate mode: R req/s in total, depth caps in-flight (default: closed loop)
  --server-cpu 0       CPU the server is pinned to (default 0)
  --loadgen-cpu 1      CPU the load generator is pinned to (default 1)
  --quick              1 s, 1 rep, smaller extras: the CI smoke run; never read its numbers
  --cpu-at-rate [R]    server CPU % of each contender at a fixed R req/s (default ${DEFAULT_CPU_AT_RATE})
  --idle-conns [N]     memory per idle connection: hold N connections after HELLO (default ${DEFAULT_IDLE_CONNS})
  --scaling            ringrpc-uring --workers 1 vs --workers 2 at depth 32
  --codec              the codec microbenchmark (bench/codec/run.ts)
  --all                all four extras with their defaults
  --no-matrix          skip the main matrix (run only the extras asked for)
  --no-latency         skip the 1-connection section (depth-1 latency table, JS client)
  --no-js-client       keep the depth-1 latency table, skip the JS-client runs
  --js-depths 1,32     depths of the JS-client runs, 1 connection (default 1,32)
  --latency-duration S measured seconds per 1-connection run (default: the smaller of --duration and ${DEFAULT_LATENCY_DURATION_S})`;

export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly code = "RPC_BENCH_USAGE";
}

function number(flag: string, raw: string | undefined, integer: boolean, min: number): number {
  const n = Number(raw);
  if (raw === undefined || raw.trim() === "" || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} needs ${integer ? "an integer" : "a number"} >= ${min}, got '${raw ?? ""}'`);
  }
  return n;
}

/** A flag whose value is optional: takes the next argument only when it is a number. */
function optionalNumber(argv: readonly string[], i: number): string | undefined {
  const next = argv[i + 1];
  return next !== undefined && /^\d+(\.\d+)?$/.test(next) ? next : undefined;
}

export function parseOptions(argv: readonly string[]): MatrixOptions {
  const o: MatrixOptions = {
    contenders: RPC_CONTENDERS.map((c) => c.name),
    depths: [1, 32],
    method: "echo",
    size: 64,
    conns: 16,
    durationS: 5,
    warmupS: 1,
    reps: 3,
    rate: 0,
    serverCpu: 0,
    loadgenCpu: 1,
    matrix: true,
    cpuAtRate: 0,
    idleConns: 0,
    scaling: false,
    codec: false,
    quick: false,
    latency: true,
    jsClient: true,
    jsDepths: [1, 32],
    latencyDurationS: null,
  };
  let idleGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = argv[i + 1];
    switch (flag) {
      case "--quick": o.quick = true; o.durationS = 1; o.warmupS = 0.3; o.reps = 1; continue;
      case "--scaling": o.scaling = true; continue;
      case "--codec": o.codec = true; continue;
      case "--no-matrix": o.matrix = false; continue;
      case "--no-latency": o.latency = false; continue;
      case "--no-js-client": o.jsClient = false; continue;
      case "--all":
        o.scaling = true;
        o.codec = true;
        if (o.cpuAtRate === 0) o.cpuAtRate = DEFAULT_CPU_AT_RATE;
        if (!idleGiven) o.idleConns = DEFAULT_IDLE_CONNS;
        continue;
      case "--cpu-at-rate": {
        const raw = optionalNumber(argv, i);
        o.cpuAtRate = raw === undefined ? DEFAULT_CPU_AT_RATE : number(flag, raw, false, 1);
        if (raw !== undefined) i++;
        continue;
      }
      case "--idle-conns": {
        const raw = optionalNumber(argv, i);
        o.idleConns = raw === undefined ? DEFAULT_IDLE_CONNS : number(flag, raw, true, 1);
        idleGiven = raw !== undefined;
        if (raw !== undefined) i++;
        continue;
      }
    }
    i++;
    switch (flag) {
      case "--contenders": {
        const names = (value ?? "").split(",").filter((s) => s.length > 0);
        const unknown = names.filter((n) => !RPC_CONTENDERS.some((c) => c.name === n));
        if (names.length === 0 || unknown.length > 0) throw new UsageError(`unknown contender '${unknown.join(",") || value || ""}'`);
        o.contenders = names;
        break;
      }
      case "--depths": o.depths = (value ?? "").split(",").map((d) => number(flag, d, true, 1)); break;
      case "--js-depths": o.jsDepths = (value ?? "").split(",").map((d) => number(flag, d, true, 1)); break;
      case "--latency-duration": o.latencyDurationS = number(flag, value, false, 0.1); break;
      case "--method": {
        const m = METHODS.find((x) => x === value);
        if (m === undefined) throw new UsageError(`--method must be one of ${METHODS.join("|")}, got '${value ?? ""}'`);
        o.method = m;
        break;
      }
      case "--size": o.size = number(flag, value, true, 1); break;
      case "--conns": o.conns = number(flag, value, true, 1); break;
      case "--duration": o.durationS = number(flag, value, false, 0.1); break;
      case "--warmup": o.warmupS = number(flag, value, false, 0); break;
      case "--reps": o.reps = number(flag, value, true, 1); break;
      case "--rate": o.rate = number(flag, value, false, 0); break;
      case "--server-cpu": o.serverCpu = number(flag, value, true, 0); break;
      case "--loadgen-cpu": o.loadgenCpu = number(flag, value, true, 0); break;
      default: throw new UsageError(`unknown option '${flag}'`);
    }
  }
  // --quick shrinks an idle run whose size was not given explicitly.
  if (o.quick && o.idleConns === DEFAULT_IDLE_CONNS && !idleGiven) o.idleConns = QUICK_IDLE_CONNS;
  return o;
}

/** Measured seconds and warm-up of each 1-connection run. */
export function latencyWindow(o: MatrixOptions): { durationS: number; warmupS: number } {
  return { durationS: o.latencyDurationS ?? Math.min(o.durationS, DEFAULT_LATENCY_DURATION_S), warmupS: Math.min(o.warmupS, MAX_LATENCY_WARMUP_S) };
}
