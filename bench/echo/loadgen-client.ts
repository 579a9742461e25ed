/**
 * Runs bench/loadgen's native load generator once and parses its one-line JSON
 * report (echo or rpc mode, closed loop or fixed rate). It owns the report's
 * shape on the TypeScript side and the reading of it from any load client
 * that prints it (bench/js-client prints the same shape), nothing about
 * servers or tables.
 */

export interface LoadgenReport {
  readonly requests: number;
  readonly rps: number;
  readonly elapsed_s: number;
  readonly latency_us: { readonly p50: number; readonly p90: number; readonly p99: number; readonly p999: number; readonly max: number; readonly mean: number };
  readonly loadgen_cpu_pct: number;
  readonly errors: number;
  readonly error: string | null;
  /** Which client printed it: "loadgen" or "js-client". */
  readonly tool?: string;
  /** js-client only: the driver its runtime ran on (uring|epoll). */
  readonly driver?: string;
}

export interface LoadgenOptions {
  readonly binary: string;
  readonly port: number;
  readonly cpu: number;
  readonly conns: number;
  readonly size: number;
  readonly depth: number;
  readonly durationS: number;
  readonly warmupS: number;
  /** Wrapper argv put before `taskset`, e.g. `nice -n -10`. */
  readonly prefix: readonly string[];
  /** Wire protocol (default "echo"); "rpc" speaks docs/PROTOCOL.md to bench.v1.Bench. */
  readonly mode?: "echo" | "rpc";
  /** rpc mode: which unary method (echo|text|add|order). */
  readonly method?: string;
  /** Fixed total request rate (req/s); absent or 0 = closed loop. */
  readonly rate?: number;
}

export class LoadgenError extends Error {
  override readonly name = "LoadgenError";
  readonly code = "ECHO_BENCH_LOADGEN";
}

export interface LoadgenRun {
  /** Resolves once the generator has exited with its report. */
  readonly report: Promise<LoadgenReport>;
  /**
   * Resolves when the client says its measured window began (a client whose
   * start-up time varies, like a Bun process, prints a marker); absent: the
   * window begins the warm-up time after the start.
   */
  readonly windowStarted?: Promise<void>;
}

/** The stderr line a load client prints when its measured window begins. */
export const WINDOW_MARKER = "measuring";

function isReport(v: unknown): v is LoadgenReport {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r["rps"] === "number" && typeof r["latency_us"] === "object" && typeof r["loadgen_cpu_pct"] === "number";
}

export function startLoadgen(o: LoadgenOptions): LoadgenRun {
  const argv = [
    ...o.prefix,
    "taskset", "-c", String(o.cpu), o.binary,
    "--host", "127.0.0.1", "--port", String(o.port), "--cpu", String(o.cpu),
    "--conns", String(o.conns), "--size", String(o.size), "--depth", String(o.depth),
    "--duration", String(o.durationS), "--warmup", String(o.warmupS), "--mode", o.mode ?? "echo",
    ...(o.method !== undefined ? ["--method", o.method] : []),
    ...(o.rate !== undefined && o.rate > 0 ? ["--rate", String(o.rate)] : []),
  ];
  return startReportingClient("loadgen", argv, {}, (o.durationS + o.warmupS) * 1000 + 15_000);
}

/**
 * Spawns a load client that prints one JSON report as its last stdout line
 * and parses it; kills the client after limitMs. `what` names it in errors.
 * With markWindow, the client's stderr line WINDOW_MARKER resolves
 * windowStarted (and the run's report, if it comes first).
 */
export function startReportingClient(what: string, argv: readonly string[], env: Record<string, string>, limitMs: number, markWindow = false): LoadgenRun {
  const proc = Bun.spawn([...argv], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const killer = setTimeout(() => proc.kill("SIGKILL"), limitMs);
  let marked: () => void = () => {};
  const windowStarted = new Promise<void>((resolve) => (marked = resolve));
  const readErr = async (): Promise<string> => {
    let text = "";
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) {
      text += decoder.decode(chunk, { stream: true });
      if (text.split("\n").some((l) => l.trim() === WINDOW_MARKER)) marked();
    }
    return text.split("\n").filter((l) => l.trim() !== WINDOW_MARKER).join("\n");
  };
  const report = (async (): Promise<LoadgenReport> => {
    const [out, err] = await Promise.all([new Response(proc.stdout).text(), readErr()]);
    await proc.exited;
    clearTimeout(killer);
    marked();
    const line = out.trim().split("\n").pop() ?? "";
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      const why = proc.signalCode === "SIGKILL" ? `was killed after ${limitMs} ms` : `exited with code ${proc.exitCode}`;
      throw new LoadgenError(`${what} ${why} without a report: ${(err || out).trim().slice(-500) || "no output"} (command: ${argv.join(" ")})`);
    }
    if (!isReport(parsed)) throw new LoadgenError(`${what} printed an unexpected report: ${line.slice(0, 300)}`);
    return parsed;
  })();
  return markWindow ? { report, windowStarted } : { report };
}
