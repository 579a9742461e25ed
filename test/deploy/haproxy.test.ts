/**
 * ringrpc behind a real HAProxy (Debian's, installed by scripts/setup.sh),
 * in TCP mode, in front of two kv example servers (examples/kv/server.ts,
 * one worker each, on io_uring where it runs), with the configuration of
 * docs/DEPLOY.md (bench/proxy/haproxy-config.ts renders both): every check
 * runs `ringrpc health` against its server. Shows that unary calls reach
 * both servers, that a server stream and a client stream pass through, that
 * TLS can end at HAProxy in front of plain io_uring backends, and that a
 * server drained with SIGTERM (NOT_SERVING, GOAWAY, listener closed) leaves
 * HAProxy's rotation while it still finishes its open calls, with no
 * failed call from a client that reconnects (and retries its idempotent
 * calls on UNAVAILABLE, as the channel's `retry` does). HAProxy and the
 * servers are stopped by pid in afterAll; everything listens on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { haproxyConfig, healthCheckScript } from "../../bench/proxy/haproxy-config.ts";
import { freePort } from "../../bench/matrix/server-port.ts";
import { type Channel, createChannel } from "../../src/rpc/client.ts";
import { createEpollRuntime } from "../../src/runtime/epoll/runtime.ts";
import type { Runtime, TlsClientOptions } from "../../src/runtime/types.ts";
import { probeUring } from "../../src/runtime/uring/probe.ts";
import { type Event, KeyValueClient, Origin } from "../../examples/kv/gen/kv.ts";
import { makeTestCerts, type TestCerts } from "../helpers/certs.ts";
import { type ServerProcess, startServer } from "../helpers/server-process.ts";
import { skipTitle } from "../helpers/skip.ts";

const root = join(import.meta.dir, "..", "..");
const KV = join(root, "examples/kv/server.ts");
const haproxy = Bun.which("haproxy");
const skip =
  haproxy === null
    ? "haproxy is not installed and scripts/setup.sh could not apt-get it (not root, or no apt-get)"
    : Bun.which("openssl") === null
      ? "openssl is not installed (apt-get install openssl)"
      : null;
/** Between two checks of one server: each check starts `ringrpc health` (~0.08 s of CPU), so not much more often on 2 shared cores. */
const CHECK_MS = 1000;
const uring = probeUring();

let dir = "";
let certs: TestCerts | null = null;
let a: ServerProcess | null = null;
let b: ServerProcess | null = null;
let proxy: Bun.Subprocess<"ignore", "pipe", "pipe"> | null = null;
let proxyLog = "";
let port = 0;
let tlsPort = 0;
let rt: Runtime;

/** Each server's state as HAProxy's admin socket reports it (`show stat`): { a: "UP", b: "DOWN", ... }. */
async function states(): Promise<Record<string, string>> {
  let out = "";
  await new Promise<void>((resolve, reject) => {
    Bun.connect({
      unix: join(dir, "admin.sock"),
      socket: {
        open: (s) => void s.write("show stat\n"),
        data: (_s, d) => void (out += d.toString()),
        close: () => resolve(),
        connectError: (_s, e) => reject(e),
      },
    }).catch(reject);
  });
  const rows = out.split("\n").map((l) => l.split(","));
  const status = rows[0]!.indexOf("status");
  return Object.fromEntries(rows.filter((f) => f[0] === "kv" && f[1] !== "BACKEND").map((f) => [f[1]!, f[status]!]));
}

async function waitForStates(want: Record<string, string>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    const now = await states();
    if (Object.entries(want).every(([k, v]) => now[k] === v)) return true;
    if (Date.now() > end) return false;
    await Bun.sleep(50);
  }
}

function channel(p: number, extra: { tls?: TlsClientOptions; connectionsPerEndpoint?: number; retry?: object } = {}): Channel {
  return createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: p }], connectTimeoutMs: 2000, ...extra });
}

const text = (v: Uint8Array) => new TextDecoder().decode(v);
const bytes = (s: string) => new TextEncoder().encode(s);

beforeAll(async () => {
  if (skip !== null) return;
  dir = mkdtempSync(join(tmpdir(), "ringrpc-haproxy-"));
  certs = makeTestCerts();
  rt = createEpollRuntime();
  a = await startServer(KV, ["--port", "0", "--workers", "1"]);
  b = await startServer(KV, ["--port", "0", "--workers", "1"]);
  // Each server answers "who" with its own name, so a call through the proxy says where it landed.
  for (const [name, s] of [["a", a], ["b", b]] as const) {
    const ch = channel(s.port);
    await new KeyValueClient(ch).put({ key: "who", value: bytes(name), origin: Origin.ORIGIN_CLIENT });
    await ch.close();
  }
  writeFileSync(join(dir, "ringrpc-health.sh"), healthCheckScript([process.execPath, join(root, "src/cli/main.ts")]));
  chmodSync(join(dir, "ringrpc-health.sh"), 0o755);
  writeFileSync(join(dir, "front.pem"), certs.serverCert + certs.serverKey);
  port = freePort();
  tlsPort = freePort();
  const config = haproxyConfig({
    port,
    tls: { port: tlsPort, pem: join(dir, "front.pem") },
    backends: [{ name: "a", host: "127.0.0.1", port: a.port }, { name: "b", host: "127.0.0.1", port: b.port }],
    check: { script: join(dir, "ringrpc-health.sh") },
    checkIntervalMs: CHECK_MS,
    statsSocket: join(dir, "admin.sock"),
  });
  writeFileSync(join(dir, "haproxy.cfg"), config);
  proxy = Bun.spawn([haproxy!, "-db", "-f", join(dir, "haproxy.cfg")], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  void (async () => {
    for await (const chunk of proxy!.stderr) proxyLog += new TextDecoder().decode(chunk);
  })();
  // Until HAProxy's admin socket answers; its last error says why if it never does.
  const end = Date.now() + 5000;
  let lastError: unknown = null;
  const answers = () => states().then(() => true, (e: unknown) => ((lastError = e), false));
  while (!(await answers())) {
    if (Date.now() > end) throw new Error(`haproxy did not start: ${String(lastError)}; its log: ${proxyLog}`);
    await Bun.sleep(50);
  }
}, 20_000);

afterAll(async () => {
  await rt?.close();
  proxy?.kill("SIGTERM");
  await proxy?.exited;
  for (const s of [a, b]) if (s !== null && s.proc.exitCode === null) await s.stop();
  certs?.remove();
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

describe(skipTitle("ringrpc behind HAProxy (TCP mode, ringrpc health checks)", skip), () => {
  test.skipIf(skip !== null)("both servers pass their `ringrpc health` checks; unary calls through the proxy reach both", async () => {
    expect(await waitForStates({ a: "UP", b: "UP" }, 5000)).toBe(true);
    // Four connections: HAProxy (leastconn) spreads them over both servers.
    const ch = channel(port, { connectionsPerEndpoint: 4 });
    try {
      const kv = new KeyValueClient(ch);
      const seen = new Set<string>();
      for (let i = 0; i < 8; i++) seen.add(text((await kv.get({ key: "who" })).entry.value));
      expect([...seen].sort()).toEqual(["a", "b"]);
    } finally {
      await ch.close();
    }
  });

  test.skipIf(skip !== null)("a server stream and a client stream pass through", async () => {
    const ch = channel(port);
    try {
      const kv = new KeyValueClient(ch);
      const events: Event[] = [];
      const it = kv.watch({ prefix: "proxied/" }, { timeoutMs: 5000 })[Symbol.asyncIterator]();
      const first = it.next();
      // The watch and the put share the connection, so they reach the same server.
      await Bun.sleep(50);
      await kv.put({ key: "proxied/1", value: bytes("x"), origin: Origin.ORIGIN_CLIENT });
      const ev = await first;
      if (!ev.done) events.push(ev.value);
      await it.return?.();
      expect(events.length).toBe(1);
      expect(events[0]!.change.kind).toBe("put");
      async function* chunks() {
        for (let i = 0; i < 3; i++) yield { entries: [{ key: `proxied/up${i}`, value: bytes("y") }, { key: `proxied/up${i}b`, value: bytes("z") }] };
      }
      expect((await kv.upload(chunks())).count).toBe(6);
    } finally {
      await ch.close();
    }
  });

  test.skipIf(skip !== null)(
    skipTitle("TLS ends at HAProxy; behind it the servers are plain ringrpc on io_uring", uring.ok ? null : `the backends run epoll here: ${uring.reason}`),
    async () => {
      expect([a!.driver, b!.driver]).toEqual(uring.ok ? ["uring", "uring"] : ["epoll", "epoll"]);
      const ch = channel(tlsPort, { tls: { ca: certs!.ca } });
      try {
        expect(["a", "b"]).toContain(text((await new KeyValueClient(ch).get({ key: "who" })).entry.value));
      } finally {
        await ch.close();
      }
      // A plain client on the TLS port gets nothing it can read as ringrpc.
      const plain = channel(tlsPort);
      const e = await new KeyValueClient(plain).get({ key: "who" }).then(() => null, (err: unknown) => err as { code: string });
      await plain.close();
      expect(e?.code).toBe("UNAVAILABLE");
    },
  );

  test.skipIf(skip !== null)("a server drained with SIGTERM leaves the rotation before it stops; a reconnecting client sees no failed call", async () => {
    expect(await waitForStates({ a: "UP", b: "UP" }, 5000)).toBe(true);
    // An open stream straight to a keeps it draining (up to its 5 s grace) after SIGTERM, as a long call would.
    const direct = channel(a!.port);
    const held = new KeyValueClient(direct).watch({ prefix: "held/" }, { timeoutMs: 15_000 })[Symbol.asyncIterator]();
    const heldEnd = held.next().then((r) => r, (e: unknown) => ({ error: e }));
    await Bun.sleep(100);

    const ch = channel(port, { connectionsPerEndpoint: 2, retry: { maxAttempts: 3 } });
    const kv = new KeyValueClient(ch);
    const failures: string[] = [];
    const answers: { at: number; who: string }[] = [];
    let running = true;
    const load = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          answers.push({ at: performance.now(), who: text((await kv.get({ key: "who" }, { timeoutMs: 2000 })).entry.value) });
        } catch (e) {
          failures.push(`${(e as { code?: string }).code}: ${(e as Error).message}`);
        }
      }
    });
    await Bun.sleep(300);
    const t0 = performance.now();
    a!.proc.kill("SIGTERM");
    let down = Number.NaN;
    while (Number.isNaN(down) && performance.now() - t0 < 4000) {
      if ((await states()).a === "DOWN") down = performance.now();
      else await Bun.sleep(25);
    }
    const aAliveWhenDown = a!.proc.exitCode === null;
    await Bun.sleep(500);
    running = false;
    await Promise.all(load);
    await held.return?.();
    await heldEnd;
    await direct.close();
    const aExit = await a!.proc.exited;
    await ch.close();

    expect(Number.isNaN(down)).toBe(false);
    // One check interval plus one check (~0.2 s) after the listener closed; measured 0.2-1.3 s.
    expect(down - t0).toBeLessThan(CHECK_MS + 1500);
    expect(aAliveWhenDown).toBe(true);
    expect(aExit).toBe(0);
    expect(failures).toEqual([]);
    const after = answers.filter((x) => x.at > down + 50);
    expect(after.length).toBeGreaterThan(10);
    expect(new Set(after.map((x) => x.who))).toEqual(new Set(["b"]));
    expect(proxyLog).toContain("Server kv/a is DOWN, reason: External check error, code: 1");
  }, 20_000);

  test.skipIf(skip !== null)("docs/DEPLOY.md shows the configuration this test runs", () => {
    const doc = readFileSync(join(root, "docs/DEPLOY.md"), "utf8");
    const block = /```haproxy\n([\s\S]*?)```/.exec(doc)?.[1];
    const documented = haproxyConfig({
      port: 7100,
      tls: { port: 7443, pem: "/etc/ringrpc/front.pem" },
      backends: [{ name: "a", host: "10.0.0.11", port: 7100 }, { name: "b", host: "10.0.0.12", port: 7100 }],
      check: { script: "/usr/local/bin/ringrpc-health" },
      checkIntervalMs: 1000,
      statsSocket: "/run/haproxy/admin.sock",
    });
    expect(block).toBe(documented);
  });
});
