/**
 * --idle-conns N: memory per idle connection. For each contender: start the
 * server, warm it with a few connections (one-time costs stay out of the
 * figure), read its RSS, let bench/idle/build/idle_holder open N connections
 * and finish the HELLO exchange on each, read the RSS again while they are
 * held, and report (held - before) / connections held in KiB. Owns this
 * procedure and its table.
 */
import type { Subprocess } from "bun";
import { PROJECT_ROOT, runBuild } from "../echo/contenders.ts";
import type { RpcContender } from "./rpc-contenders.ts";
import { serverMemory } from "./server-memory.ts";
import { portOf } from "./server-port.ts";
import { errorText, startPinned } from "./run-once.ts";
import { oneLine } from "./matrix-table.ts";

export interface IdleResult {
  readonly contender: string;
  readonly requested: number;
  readonly ready: number;
  readonly failed: number;
  readonly dropped: number | null;
  readonly connectMs: number | null;
  readonly rssBeforeKiB: number | null;
  readonly rssHeldKiB: number | null;
  readonly kibPerConn: number | null;
  readonly error: string | null;
}

interface HolderReport {
  readonly ready: number;
  readonly failed: number;
  readonly elapsed_ms: number;
  readonly error: string | null;
}

const WARM_CONNS = 200;
const SETTLE_MS = 1000;
const HOLDER_TIMEOUT_S = 60;

export function buildIdleHolder(): string {
  runBuild("the idle-connection holder", ["make", "-s", "-C", `${PROJECT_ROOT}bench/idle`], PROJECT_ROOT);
  return `${PROJECT_ROOT}bench/idle/build/idle_holder`;
}

/** Reads stdout line by line; each call resolves with the next line, or null at EOF. */
function lineReader(stream: ReadableStream<Uint8Array>): () => Promise<string | null> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  return async () => {
    for (;;) {
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        return line;
      }
      const { value, done } = await reader.read();
      if (done) {
        const rest = buf;
        buf = "";
        return rest.length > 0 ? rest : null;
      }
      buf += decoder.decode(value, { stream: true });
    }
  };
}

class Holder {
  private constructor(private readonly proc: Subprocess<"pipe", "pipe", "pipe">, readonly nextLine: () => Promise<string | null>) {}

  static start(binary: string, cpu: number, port: number, conns: number): Holder {
    const proc = Bun.spawn(["taskset", "-c", String(cpu), binary, "--port", String(port), "--conns", String(conns), "--timeout", String(HOLDER_TIMEOUT_S)], {
      stdin: "pipe", stdout: "pipe", stderr: "pipe",
    });
    return new Holder(proc, lineReader(proc.stdout));
  }

  async report(): Promise<HolderReport> {
    const killer = setTimeout(() => this.proc.kill("SIGKILL"), (HOLDER_TIMEOUT_S + 15) * 1000);
    const line = await this.nextLine();
    clearTimeout(killer);
    if (line === null) {
      await this.proc.exited;
      const err = await new Response(this.proc.stderr).text();
      throw new Error(`idle_holder exited with code ${this.proc.exitCode} before reporting: ${err.trim().slice(-300) || "no output"}`);
    }
    return JSON.parse(line) as HolderReport;
  }

  /** Closes its stdin (it lets go of every connection) and returns how many the server dropped while held. */
  async release(): Promise<number | null> {
    void this.proc.stdin.end();
    const killer = setTimeout(() => this.proc.kill("SIGKILL"), 10_000);
    const line = await this.nextLine();
    await this.proc.exited;
    clearTimeout(killer);
    if (line === null) return null;
    const parsed = JSON.parse(line) as { dropped?: number };
    return typeof parsed.dropped === "number" ? parsed.dropped : null;
  }
}

/** The result of a contender that could not be measured. */
export function failedIdle(contender: string, requested: number, error: string): IdleResult {
  return { contender, requested, ready: 0, failed: 0, dropped: null, connectMs: null, rssBeforeKiB: null, rssHeldKiB: null, kibPerConn: null, error };
}

export async function measureIdle(holderBin: string, c: RpcContender, serverCpu: number, holderCpu: number, conns: number): Promise<IdleResult> {
  let server;
  try {
    server = await startPinned(c, serverCpu);
  } catch (e) {
    return failedIdle(c.name, conns, `failed to start: ${errorText(e)}`);
  }
  try {
    const port = portOf(server.readyLine);
    const warm = Holder.start(holderBin, holderCpu, port, WARM_CONNS);
    await warm.report();
    await warm.release();
    await Bun.sleep(SETTLE_MS);
    const before = serverMemory(server.pid);
    const holder = Holder.start(holderBin, holderCpu, port, conns);
    let report: HolderReport;
    try {
      report = await holder.report();
      await Bun.sleep(SETTLE_MS);
    } catch (e) {
      await holder.release().catch(() => null);
      throw e;
    }
    const held = serverMemory(server.pid);
    const dropped = await holder.release();
    const alive = server.alive();
    const perConn = before !== null && held !== null && report.ready > 0 ? (held.rssKiB - before.rssKiB) / report.ready : null;
    const problems: string[] = [];
    if (!alive || held === null) problems.push(`server exited while holding; its output:\n${server.tail()}`);
    if (report.failed > 0) problems.push(`${report.failed}/${conns} connections failed: ${report.error ?? "unknown"}`);
    if (dropped !== null && dropped > 0) problems.push(`server dropped ${dropped} held connections`);
    return {
      contender: c.name, requested: conns, ready: report.ready, failed: report.failed, dropped, connectMs: report.elapsed_ms,
      rssBeforeKiB: before?.rssKiB ?? null, rssHeldKiB: held?.rssKiB ?? null, kibPerConn: perConn,
      error: problems.length ? problems.join("; ") : null,
    };
  } catch (e) {
    return failedIdle(c.name, conns, errorText(e));
  } finally {
    await server.stop();
  }
}

function fmt(x: number | null, digits = 0): string {
  return x !== null && Number.isFinite(x) ? x.toFixed(digits) : "-";
}

export function idleTable(results: readonly IdleResult[]): string {
  const head = ["contender", "connections held", "server RSS before MiB", "server RSS held MiB", "KiB per idle connection", "connect+HELLO ms", "notes"];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const r of results) {
    lines.push(`| ${[
      r.contender, `${r.ready}/${r.requested}`, fmt(r.rssBeforeKiB === null ? null : r.rssBeforeKiB / 1024, 1),
      fmt(r.rssHeldKiB === null ? null : r.rssHeldKiB / 1024, 1), fmt(r.kibPerConn, 2), fmt(r.connectMs), r.error === null ? "" : oneLine(r.error),
    ].join(" | ")} |`);
  }
  return lines.join("\n");
}
