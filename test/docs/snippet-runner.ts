/**
 * Runs the docs' runnable snippets: starts a document's server snippet on a
 * free port (passed as PORT, which the snippets read), waits until it
 * accepts connections, runs a client snippet with the same PORT, and stops
 * the server; a document without a server snippet has its run snippets run
 * alone. Every step is bounded in time and every process it starts is
 * ended by its own handle. Owns the processes only; the test judges output.
 */
import { connect } from "node:net";
import { freePort } from "../../bench/matrix/server-port.ts";

export interface RunResult {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly ms: number;
}

/** A started server snippet. */
export interface SnippetServer {
  readonly port: number;
  /** SIGTERM, then SIGKILL after graceMs; resolves with what it printed. */
  stop(graceMs: number): Promise<RunResult>;
}


function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: "127.0.0.1", port }, () => {
      sock.destroy();
      resolve(true);
    });
    sock.on("error", () => resolve(false));
  });
}

async function collect(proc: Bun.Subprocess<"ignore", "pipe", "pipe">, started: number, timedOut: () => boolean): Promise<RunResult> {
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr, timedOut: timedOut(), ms: performance.now() - started };
}

/** Runs `bun file` in cwd, with PORT set when a server runs for it; kills it after timeoutMs. */
export async function runSnippet(file: string, cwd: string, port: number | null, timeoutMs: number): Promise<RunResult> {
  const started = performance.now();
  const env = port === null ? process.env : { ...process.env, PORT: String(port) };
  const proc = Bun.spawn([process.execPath, file], { cwd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    proc.kill("SIGKILL");
  }, timeoutMs);
  try {
    return await collect(proc, started, () => killed);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts `bun file` in cwd with PORT set and waits (at most readyMs) until the port accepts a connection. */
export async function startServer(file: string, cwd: string, readyMs: number): Promise<SnippetServer> {
  const port = freePort();
  const started = performance.now();
  const proc = Bun.spawn([process.execPath, file], { cwd, env: { ...process.env, PORT: String(port) }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let killed = false;
  const output = collect(proc, started, () => killed);
  const stop = async (graceMs: number): Promise<RunResult> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    const timer = setTimeout(() => {
      killed = true;
      proc.kill("SIGKILL");
    }, graceMs);
    try {
      return await output;
    } finally {
      clearTimeout(timer);
    }
  };
  while (performance.now() - started < readyMs) {
    if (proc.exitCode !== null || proc.signalCode !== null) break;
    if (await canConnect(port)) return { port, stop };
    await Bun.sleep(50);
  }
  const r = await stop(1000);
  throw new Error(`server snippet ${file} did not accept connections on port ${port} within ${readyMs} ms (exit ${r.exitCode}):\n${r.stdout}${r.stderr}`);
}
