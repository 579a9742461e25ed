/**
 * One benchmarked server process: starts it (the caller's argv, typically
 * `taskset -c N server ...`: each wrapper execs, so the pid is the server's), waits for its ready line, samples its CPU time from /proc/<pid>/stat and
 * stops it (SIGTERM, then SIGKILL). It owns nothing about load or results.
 */
import type { Subprocess } from "bun";
import { readFileSync } from "node:fs";

export class ServerStartError extends Error {
  override readonly name = "ServerStartError";
  readonly code = "ECHO_BENCH_SERVER_START";
}

const CLOCK_TICKS_PER_SECOND = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;
const OUTPUT_TAIL_CHARS = 4000;

/** utime + stime of a process (all its threads, live and exited), in seconds. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

/** The last OUTPUT_TAIL_CHARS characters a server printed, stdout and stderr mixed. */
class OutputTail {
  text = "";
  append(s: string): void {
    this.text = (this.text + s).slice(-OUTPUT_TAIL_CHARS);
  }
  lastLines(n: number): string {
    return this.text.trim().split("\n").slice(-n).join("\n");
  }
}

export class ServerProcess {
  readonly pid: number;

  private constructor(
    private readonly proc: Subprocess<"ignore", "pipe", "pipe">,
    private readonly output: OutputTail,
    readonly readyLine: string,
  ) {
    this.pid = proc.pid;
  }

  /** Last lines the server printed, for error messages. */
  tail(lines = 10): string {
    return this.output.lastLines(lines);
  }

  static async start(argv: string[], ready: RegExp, timeoutMs: number): Promise<ServerProcess> {
    const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const output = new OutputTail();
    const drain = async (stream: ReadableStream<Uint8Array>, onText: (s: string) => void): Promise<void> => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) onText(decoder.decode(chunk, { stream: true }));
    };
    const seen: { readyLine: string | null } = { readyLine: null };
    let lineBuf = "";
    let onReady: () => void = () => {};
    const readyPromise = new Promise<void>((resolve) => (onReady = resolve));
    void drain(proc.stdout, (s) => {
      output.append(s);
      if (seen.readyLine !== null) return;
      lineBuf += s;
      for (const line of lineBuf.split("\n")) {
        if (ready.test(line)) {
          seen.readyLine = line.trim();
          onReady();
          return;
        }
      }
      lineBuf = lineBuf.slice(lineBuf.lastIndexOf("\n") + 1);
    }).catch(() => {});
    void drain(proc.stderr, (s) => output.append(s)).catch(() => {});

    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      readyPromise.then(() => "ready" as const),
      proc.exited.then(() => "exited" as const),
      new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (outcome === "ready" && seen.readyLine !== null) {
      return new ServerProcess(proc, output, seen.readyLine);
    }
    if (outcome === "timeout") {
      proc.kill("SIGKILL");
      await proc.exited;
    }
    // Give the pipes a moment to deliver the last words of a crashed server.
    await Bun.sleep(50);
    const why = outcome === "timeout" ? `printed no ready line within ${timeoutMs} ms` : `exited with code ${proc.exitCode}`;
    const tail = output.lastLines(10);
    throw new ServerStartError(`${argv.join(" ")} ${why}${tail ? `; its output:\n${tail}` : " and printed nothing"}`);
  }

  cpuSeconds(): number {
    return processCpuSeconds(this.pid);
  }

  /** True while the server process is still running. */
  alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async stop(): Promise<void> {
    if (!this.alive()) return;
    this.proc.kill("SIGTERM");
    const exited = await Promise.race([this.proc.exited.then(() => true), Bun.sleep(2000).then(() => false)]);
    if (!exited) {
      this.proc.kill("SIGKILL");
      await this.proc.exited;
    }
  }
}
