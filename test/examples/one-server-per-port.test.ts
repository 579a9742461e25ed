/**
 * One server per port, as a user meets it with the kv example server on
 * each driver: a second server on a port the first serves exits 1 with one
 * line saying what is wrong and what to do, and the first keeps serving
 * every new connection from its one store; with `--reuse-port` (reusePort:
 * true) the second starts on the same port. A supervised server (serve({
 * processes })) and a plain one refuse each other the same way, while the
 * supervised one's own children share its port. Everything on 127.0.0.1,
 * bounded, and every server stopped.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { KeyValueClient } from "../../examples/kv/gen/kv.ts";
import { openChannel } from "../../src/open-channel.ts";
import { probeUring } from "../../src/runtime/uring/probe.ts";
import { type ServerProcess, startServer } from "../helpers/server-process.ts";
import { skipTitle } from "../helpers/skip.ts";

const KV = "examples/kv/server.ts";
const root = new URL("../..", import.meta.url).pathname;
const uring = probeUring();
const running: ServerProcess[] = [];
afterAll(async () => {
  for (const s of running.splice(0)) await s.stop();
});

async function start(args: string[]): Promise<ServerProcess> {
  const s = await startServer(KV, args);
  running.push(s);
  return s;
}

async function stop(s: ServerProcess): Promise<number> {
  running.splice(running.indexOf(s), 1);
  return s.stop();
}

/** Runs a kv server that must fail at start-up; its exit code and output (killed after 15 s). */
async function startFailing(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([process.execPath, KV, ...args], { cwd: root, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const killer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(killer);
  return { code, stdout, stderr };
}

function inUseLine(port: number): string {
  return (
    `kv server: 127.0.0.1:${port} is already in use by another process (a second server there would split the connections with it): ` +
    "stop that process or pick another port, or pass reusePort: true to share the port on purpose\n"
  );
}

/** Puts a key over one connection, then reads it back over `fresh` new connections: what each saw. */
async function seenByFreshConnections(port: number, key: string, fresh: number): Promise<string[]> {
  const first = await openChannel({ host: "127.0.0.1", port, driver: "epoll" });
  try {
    await new KeyValueClient(first).put({ key, value: new TextEncoder().encode("v"), origin: 1 });
  } finally {
    await first.close();
  }
  const seen: string[] = [];
  for (let i = 0; i < fresh; i++) {
    const ch = await openChannel({ host: "127.0.0.1", port, driver: "epoll" });
    try {
      seen.push(await new KeyValueClient(ch).get({ key }).then((r) => new TextDecoder().decode(r.entry.value), (e: { code?: string }) => String(e.code)));
    } finally {
      await ch.close();
    }
  }
  return seen;
}

for (const driver of ["epoll", "uring"] as const) {
  const skip = driver === "uring" && !uring.ok ? `io_uring unavailable: ${uring.reason}` : null;
  describe.skipIf(skip !== null)(skipTitle(`one kv server per port (${driver})`, skip), () => {
    test("a second server on the port fails in one line and the first keeps serving; with --reuse-port the second starts", async () => {
      const first = await start(["--port", "0", "--workers", "1", "--driver", driver]);
      const port = String(first.port);
      const second = await startFailing(["--port", port, "--workers", "1", "--driver", driver]);
      expect(second).toEqual({ code: 1, stdout: "", stderr: inUseLine(first.port) });
      // Every new connection still reaches the first server's one store.
      expect(await seenByFreshConnections(first.port, `k-${driver}`, 8)).toEqual(Array(8).fill("v"));
      const sharing = await start(["--port", port, "--workers", "1", "--driver", driver, "--reuse-port"]);
      expect(sharing.port).toBe(first.port);
      expect(await stop(sharing)).toBe(0);
      expect(await stop(first)).toBe(0);
    }, 45_000);
  });
}

describe("one server per port: the supervised mode", () => {
  test("a plain server refuses a supervised one's port and the other way round; the supervised one's children share it", async () => {
    const supervised = await start(["--port", "0", "--processes", "2", "--workers", "1", "--driver", "epoll"]);
    const plainThere = await startFailing(["--port", String(supervised.port), "--workers", "1", "--driver", "epoll"]);
    expect(plainThere).toEqual({ code: 1, stdout: "", stderr: inUseLine(supervised.port) });
    expect(await stop(supervised)).toBe(0);

    const plain = await start(["--port", "0", "--workers", "1", "--driver", "epoll"]);
    const supervisedThere = await startFailing(["--port", String(plain.port), "--processes", "2", "--workers", "1", "--driver", "epoll"]);
    expect(supervisedThere).toEqual({ code: 1, stdout: "", stderr: inUseLine(plain.port) });
    expect(await stop(plain)).toBe(0);
  }, 60_000);
});
