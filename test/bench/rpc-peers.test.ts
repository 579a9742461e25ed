/**
 * The RPC benchmark contenders against the native load generator's rpc mode
 * (bench/loadgen, docs/PROTOCOL.md client): builds the loadgen and the Tokio
 * baseline (bench/tokio, offline cargo build), runs every unary bench.v1
 * method for one second against the Tokio rpc_server and, when present, the
 * Bun.listen peer, echo against the uring-floor contender (bench/floor/),
 * and requires traffic with zero verification errors. Also
 * checks that the loadgen's checks can fail (a lying fake server) and that
 * garbage gets a GOAWAY from the Tokio server. Only talks to 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { Packr, Unpackr } from "msgpackr";
import type { TCPSocketListener } from "bun";
import { probeUring } from "../../src/runtime/uring/probe.ts";
import { startCommand, type ServerProcess } from "../helpers/server-process.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const LOADGEN = join(ROOT, "bench/loadgen/build/loadgen");
const TOKIO_DIR = join(ROOT, "bench/tokio");
const TOKIO_SERVER = join(TOKIO_DIR, "target/release/rpc_server");
const BUN_PEER = join(ROOT, "bench/peers/bun-listen-rpc.ts");
const METHODS = ["echo", "text", "add", "order"] as const;
const READY_TIMEOUT_MS = 5000;
const WAIT_MS = 2000;

/** Why the Tokio part cannot run here, or null when it can. */
function tokioSkipReason(): string | null {
  if (Bun.which("cargo") === null) return "cargo is not installed (install a Rust toolchain; see bench/tokio/README.md)";
  if (!existsSync("/usr/share/cargo/registry")) return "Debian's crate sources are missing: run bash bench/tokio/setup.sh as root";
  return null;
}
const TOKIO_SKIP = tokioSkipReason();
if (TOKIO_SKIP !== null) console.warn(`rpc-peers: skipping the Tokio server: ${TOKIO_SKIP}`);
const HAS_BUN_PEER = existsSync(BUN_PEER);
if (!HAS_BUN_PEER) console.warn(`rpc-peers: skipping the Bun.listen peer: ${BUN_PEER} does not exist`);

/** Runs a build command; throws with its output when it fails or takes longer than timeoutMs. */
function build(cmd: string[], cwd: string, timeoutMs: number): void {
  const r = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe", timeout: timeoutMs });
  if (r.exitCode !== 0) {
    throw new Error(`${cmd.join(" ")} (in ${cwd}) failed with exit ${r.exitCode}${r.signalCode ? ` (${r.signalCode}, timeout ${timeoutMs} ms?)` : ""}:\n${r.stdout.toString()}${r.stderr.toString()}`);
  }
}



async function stopServer(s: ServerProcess | undefined): Promise<void> {
  if (s === undefined) return;
  s.proc.kill("SIGTERM");
  const kill = setTimeout(() => s.proc.kill("SIGKILL"), 2000);
  await s.proc.exited;
  clearTimeout(kill);
}

interface LoadgenResult {
  exitCode: number;
  report: { rps: number; requests: number; errors: number; error: string | null; mode: string; method?: string };
  stderr: string;
}

/** Runs the loadgen in rpc mode (killed after 15 s) and parses its JSON line. */
async function loadgen(port: number, method: string, extra: string[] = []): Promise<LoadgenResult> {
  const args = ["--mode", "rpc", "--method", method, "--port", String(port), "--duration", "1", "--warmup", "0.25", "--conns", "2", "--depth", "4", ...extra];
  const proc = Bun.spawn([LOADGEN, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const kill = setTimeout(() => proc.kill("SIGKILL"), 15000);
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(kill);
  const line = stdout.trim().split("\n").at(-1) ?? "";
  let report: LoadgenResult["report"];
  try {
    report = JSON.parse(line) as LoadgenResult["report"];
  } catch {
    throw new Error(`loadgen ${args.join(" ")} printed no JSON (exit ${exitCode}): stdout=${stdout} stderr=${stderr}`);
  }
  return { exitCode, report, stderr };
}

/** Every unary method: traffic flows and every reply verifies. */
function methodTests(server: () => ServerProcess): void {
  for (const method of METHODS) {
    test(`loadgen --mode rpc --method ${method}: rps > 0, errors == 0`, async () => {
      const { exitCode, report, stderr } = await loadgen(server().port, method);
      expect({ error: report.error, stderr }).toEqual({ error: null, stderr: "" });
      expect(report.errors).toBe(0);
      expect(report.rps).toBeGreaterThan(0);
      expect(report.method).toBe(method);
      expect(exitCode).toBe(0);
    }, 10000);
  }
}

beforeAll(() => {
  build(["make", "-C", "bench/loadgen"], ROOT, 30000);
});

describe.skipIf(TOKIO_SKIP !== null)(`Tokio rpc_server${TOKIO_SKIP === null ? "" : ` (skipped: ${TOKIO_SKIP})`}`, () => {
  let server: ServerProcess;

  beforeAll(async () => {
    // The first build takes ~20 s; later runs reuse bench/tokio/target.
    build(["cargo", "build", "--release", "--offline", "--bin", "rpc_server"], TOKIO_DIR, 45000);
    server = await startCommand([TOKIO_SERVER, "--port", "0", "--current-thread"], { timeoutMs: READY_TIMEOUT_MS });
  }, 50000);

  afterAll(() => stopServer(server));

  test("announces itself with the contender ready line", () => {
    expect([server.host, server.driver, server.workers]).toEqual(["127.0.0.1", "tokio", 1]);
    expect(server.port).toBeGreaterThan(0);
  });

  test("its protocol unit tests pass (cargo test --lib)", () => {
    build(["cargo", "test", "--release", "--offline", "--lib"], TOKIO_DIR, 40000);
  }, 45000);

  methodTests(() => server);

  test("a garbage frame after HELLO gets GOAWAY MALFORMED_FRAME and a close", async () => {
    const c = await RawClient.open(server.port);
    c.send(frame([1, 0, 1, 4194304, 1000, 64, 8192]), new Uint8Array([0, 0, 0, 3, 0xc1, 0xc1, 0xc1]));
    expect((await c.next())[0]).toBe(1);
    const goAway = await c.next();
    expect(goAway.slice(0, 4)).toEqual([12, 0, 0, 7]);
    expect(typeof goAway[4]).toBe("string");
    expect(await c.waitClosed()).toBe(true);
  });

  test("HTTP instead of HELLO gets GOAWAY FRAME_TOO_LARGE from the length prefix alone", async () => {
    const c = await RawClient.open(server.port);
    c.send(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    expect((await c.next())[0]).toBe(1);
    const goAway = await c.next();
    expect(goAway.slice(0, 4)).toEqual([12, 0, 0, 2]);
    expect(goAway[4]).toContain(String(0x47455420));
    expect(await c.waitClosed()).toBe(true);
  });
});

// Both of the peer's body encoders must be wire-correct (docs/ENCODING.md).
for (const encoder of ["msgpackr", "direct"] as const) {
  describe.skipIf(!HAS_BUN_PEER)(`Bun.listen peer --encoder ${encoder}${HAS_BUN_PEER ? "" : " (skipped: bench/peers/bun-listen-rpc.ts missing)"}`, () => {
    let server: ServerProcess;

    beforeAll(async () => {
      server = await startCommand([process.execPath, BUN_PEER, "--port", "0", "--encoder", encoder], { timeoutMs: READY_TIMEOUT_MS });
    });

    afterAll(() => stopServer(server));

    test("announces itself with the contender ready line", () => {
      expect([server.host, server.driver, server.workers]).toEqual(["127.0.0.1", "bun-listen", 1]);
    });

    methodTests(() => server);
  });
}

const FLOOR = join(ROOT, "bench/floor/server.ts");
const uring = probeUring();
// The floor contender serves echo only; its answers must verify like any server's, split frames included.
describe.skipIf(!uring.ok)(`the uring-floor contender${uring.ok ? "" : ` (skipped: ${uring.reason})`}`, () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startCommand([process.execPath, FLOOR, "--port", "0"], { timeoutMs: READY_TIMEOUT_MS });
  });

  afterAll(() => stopServer(server));

  test("announces itself with the contender ready line", () => {
    expect([server.host, server.driver, server.workers]).toEqual(["127.0.0.1", "uring-floor", 1]);
  });

  for (const size of [64, 60000]) {
    test(`loadgen --method echo --size ${size}: rps > 0, errors == 0`, async () => {
      const { exitCode, report, stderr } = await loadgen(server.port, "echo", ["--size", String(size)]);
      expect({ error: report.error, stderr }).toEqual({ error: null, stderr: "" });
      expect(report.errors).toBe(0);
      expect(report.rps).toBeGreaterThan(0);
      expect(exitCode).toBe(0);
    }, 10000);
  }
});

describe("loadgen rpc mode catches a lying server", () => {
  const cases = [
    { lie: "sum", method: "add", want: "sum" },
    { lie: "swap", method: "echo", want: "not this call's" },
    { lie: "status", method: "text", want: "failed with status 13: handler exploded" },
    { lie: "unknown-id", method: "order", want: "not in flight" },
  ] as const;
  for (const { lie, method, want } of cases) {
    test(`${lie} (--method ${method}) is reported as an error`, async () => {
      const liar = lyingServer(lie);
      try {
        const { exitCode, report } = await loadgen(liar.port, method);
        expect(report.errors).toBeGreaterThan(0);
        expect(report.error).toContain(want);
        expect(exitCode).toBe(1);
      } finally {
        liar.stop(true);
      }
    }, 10000);
  }
});

// ---- wire helpers (msgpackr, structs as maps keyed by field id) ----------

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: "number" });

function frame(value: unknown[]): Uint8Array {
  const body = packr.pack(value);
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** Splits a byte stream into decoded frames; keeps a partial frame. */
class FrameSplitter {
  private buf = new Uint8Array(0);

  push(chunk: Uint8Array): unknown[][] {
    const joined = new Uint8Array(this.buf.length + chunk.length);
    joined.set(this.buf, 0);
    joined.set(chunk, this.buf.length);
    const frames: unknown[][] = [];
    let pos = 0;
    while (joined.length - pos >= 4) {
      const len = new DataView(joined.buffer, pos, 4).getUint32(0);
      if (joined.length - pos - 4 < len) break;
      frames.push(unpackr.unpack(joined.subarray(pos + 4, pos + 4 + len)) as unknown[]);
      pos += 4 + len;
    }
    this.buf = joined.slice(pos);
    return frames;
  }
}

/** A raw client socket that queues the frames the server sends. */
class RawClient {
  private readonly splitter = new FrameSplitter();
  private readonly frames: unknown[][] = [];
  closed = false;

  private constructor(readonly sock: Socket) {
    sock.on("data", (chunk: Buffer) => this.frames.push(...this.splitter.push(chunk)));
    sock.on("close", () => (this.closed = true));
    sock.on("error", () => {});
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: "127.0.0.1", port }, () => resolve(new RawClient(sock)));
      sock.once("error", reject);
    });
  }

  send(...chunks: Uint8Array[]): void {
    for (const c of chunks) this.sock.write(c);
  }

  /** The next frame; fails after WAIT_MS. */
  async next(): Promise<unknown[]> {
    const deadline = Date.now() + WAIT_MS;
    while (this.frames.length === 0) {
      if (Date.now() > deadline) throw new Error(`no frame within ${WAIT_MS} ms (closed: ${this.closed})`);
      await Bun.sleep(5);
    }
    return this.frames.shift()!;
  }

  async waitClosed(): Promise<boolean> {
    const deadline = Date.now() + WAIT_MS;
    while (!this.closed && Date.now() < deadline) await Bun.sleep(5);
    this.sock.destroy();
    return this.closed;
  }
}

type Lie = "sum" | "swap" | "status" | "unknown-id";

/**
 * A fake bench server that speaks the protocol but answers wrongly: add off
 * by one, echo payloads of two calls swapped, a STATUS INTERNAL, or a
 * RESPONSE for an id that was never sent.
 */
function lyingServer(lie: Lie): TCPSocketListener<{ splitter: FrameSplitter; held: unknown[] | null }> {
  return Bun.listen<{ splitter: FrameSplitter; held: unknown[] | null }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { splitter: new FrameSplitter(), held: null };
        s.write(frame([1, 0, 1, 4194304, 1000, 64, 8192]));
      },
      data(s, chunk) {
        for (const f of s.data.splitter.push(chunk)) {
          if (f[0] !== 2) continue;
          const id = f[1] as number;
          const msg = f[6] as Map<number, unknown>;
          if (lie === "sum") {
            s.write(frame([5, id, new Map([[1, (msg.get(1) as number) + (msg.get(2) as number) + 1]])]));
          } else if (lie === "status") {
            s.write(frame([7, id, 13, "handler exploded", null, null, null]));
          } else if (lie === "unknown-id") {
            s.write(frame([5, id + 1000, new Map([[1, "x"]])]));
          } else if (s.data.held === null) {
            s.data.held = f;
          } else {
            const first = s.data.held;
            s.data.held = null;
            s.write(frame([5, first[1], msg]));
            s.write(frame([5, id, first[6]]));
          }
        }
      },
    },
  });
}
