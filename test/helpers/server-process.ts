/**
 * Starts a ringrpc example server as a child process, waits for its
 * `listening on HOST:PORT driver=D workers=N` line, and stops it. Shared by
 * tests and the demo; bounded: a server that is not ready in time is killed.
 */
import type { Subprocess } from "bun";

export interface ServerProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  host: string;
  port: number;
  driver: string;
  workers: number;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Sends SIGTERM and resolves with the exit code (kills after timeoutMs). */
  stop(timeoutMs?: number): Promise<number>;
}

const READY = /listening on (\S+):(\d+) driver=([\w-]+) workers=(\d+)/;

export interface StartOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
  cwd?: string;
}

/** Starts a Bun script (with this test's Bun) as a server. */
export function startServer(script: string, args: string[], opts: StartOptions = {}): Promise<ServerProcess> {
  return startCommand([process.execPath, script, ...args], opts);
}

/** Starts any server command (a native binary too) that prints the ready line. */
export async function startCommand(cmd: string[], opts: StartOptions = {}): Promise<ServerProcess> {
  const script = cmd.join(" ");
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd ?? new URL("../..", import.meta.url).pathname,
    env: { ...process.env, ...opts.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let errText = "";
  void (async () => {
    for await (const chunk of proc.stderr) errText += new TextDecoder().decode(chunk);
  })();
  let outText = "";
  const reader = proc.stdout.getReader();
  const deadline = Date.now() + (opts.timeoutMs ?? 15000);
  let m: RegExpMatchArray | null = null;
  while (!m) {
    const left = deadline - Date.now();
    const next = await Promise.race([reader.read(), Bun.sleep(Math.max(0, left)).then(() => null)]);
    if (next === null || next.done) {
      proc.kill("SIGKILL");
      throw new Error(`server ${script} not ready (${next === null ? "timeout" : "exited"}): stdout=${outText} stderr=${errText}`);
    }
    outText += new TextDecoder().decode(next.value);
    m = outText.match(READY);
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  void (async () => {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      outText += new TextDecoder().decode(r.value);
    }
  })();
  return {
    proc,
    host: m[1]!,
    port: Number(m[2]),
    driver: m[3]!,
    workers: Number(m[4]),
    stderr: () => errText,
    async stop(timeoutMs = 10000) {
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      const code = await proc.exited;
      clearTimeout(t);
      return code;
    },
  };
}
