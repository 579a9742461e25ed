/**
 * The Bun.listen RPC peer (bench/peers/bun-listen-rpc.ts) against a raw
 * loopback socket: requests are encoded here by hand from docs/PROTOCOL.md
 * with msgpackr (structs as maps keyed by field id), so the test shares no
 * code with the peer. Checks HELLO, the RESPONSE fast path, ticks within
 * WINDOW credit, call-level errors and the frame-size limit. Then ringrpc's
 * own client (createChannel on the epoll runtime, with bench stubs generated
 * from bench/bench.ridl into a temp dir) calls every method of the peer.
 * Everything runs once per peer encoder (msgpackr Packr, direct writer).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { Packr, Unpackr } from "msgpackr";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate } from "../../codegen/index.ts";
import { compile } from "../../idl/index.ts";
import { createChannel } from "../../src/rpc/client.ts";
import { startServer, type ServerProcess } from "../helpers/server-process.ts";
import type { CallInvoker } from "../../src/rpc/descriptor.ts";
import { createEpollRuntime } from "../../src/runtime/epoll/runtime.ts";

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: "number" });
const WAIT_MS = 2000;

function frameBytes(frame: unknown[]): Uint8Array {
  const body = packr.pack(frame);
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

const clientHello = (window = 64) => frameBytes([1, 0, 1, 4194304, 1000, window, 8192]);
const request = (id: number, method: string, msg: Map<number, unknown>) => frameBytes([2, id, `bench.v1.Bench/${method}`, 5000, null, 1, msg]);

/** A raw client: splits what the peer sends into decoded frames. */
class RawClient {
  private buf = new Uint8Array(0);
  private readonly frames: unknown[][] = [];
  /** The first bytes the peer sent, verbatim. */
  firstBytes = new Uint8Array(0);
  private waiter: (() => void) | null = null;
  closed = false;
  readonly sock: Socket;

  private constructor(sock: Socket) {
    this.sock = sock;
    sock.on("data", (chunk: Buffer) => {
      if (this.firstBytes.length < 64) this.firstBytes = new Uint8Array([...this.firstBytes, ...chunk.subarray(0, 64)]);
      const joined = new Uint8Array(this.buf.length + chunk.length);
      joined.set(this.buf, 0);
      joined.set(chunk, this.buf.length);
      let pos = 0;
      while (joined.length - pos >= 4) {
        const len = new DataView(joined.buffer, pos, 4).getUint32(0);
        if (joined.length - pos - 4 < len) break;
        this.frames.push(unpackr.unpack(joined.subarray(pos + 4, pos + 4 + len)) as unknown[]);
        pos += 4 + len;
      }
      this.buf = joined.slice(pos);
      this.wake();
    });
    sock.on("close", () => {
      this.closed = true;
      this.wake();
    });
    sock.on("error", () => {});
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: "127.0.0.1", port }, () => resolve(new RawClient(sock)));
      sock.once("error", reject);
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  send(...frames: Uint8Array[]): void {
    for (const f of frames) this.sock.write(f);
  }

  /** The next frame; fails after WAIT_MS or when the peer closes first. */
  async next(): Promise<unknown[]> {
    const deadline = Date.now() + WAIT_MS;
    while (this.frames.length === 0) {
      if (this.closed) throw new Error("peer closed the connection before sending a frame");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${WAIT_MS} ms`);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, left);
      });
    }
    return this.frames.shift()!;
  }

  /** Frames received within ms (does not wait for more). */
  async idle(ms: number): Promise<unknown[][]> {
    await Bun.sleep(ms);
    return this.frames.splice(0);
  }

  async waitClosed(): Promise<boolean> {
    const deadline = Date.now() + WAIT_MS;
    while (!this.closed && Date.now() < deadline) await Bun.sleep(10);
    return this.closed;
  }

  close(): void {
    this.sock.destroy();
  }
}

/** Connects, exchanges HELLO and checks the peer's HELLO. */
async function handshake(port: number, window = 64): Promise<RawClient> {
  const c = await RawClient.open(port);
  c.send(clientHello(window));
  expect(await c.next()).toEqual([1, 0, 1, 4194304, 1000, 64, 8192]);
  return c;
}

const READY_TIMEOUT_MS = 4000;



/** The part of the generated BenchClient this test calls. */
interface BenchClientLike {
  echo(req: { data: Uint8Array }): Promise<{ data: Uint8Array }>;
  echoText(req: { text: string }): Promise<{ text: string }>;
  add(req: { a: number; b: number }): Promise<{ sum: bigint }>;
  order(req: { customer: string; items: Item[]; note?: string }): Promise<{ customer: string; total: number; count: number; items: Item[] }>;
  ticks(req: { count: number; size: number }): AsyncIterable<{ seq: number; data: Uint8Array }>;
}
interface Item {
  id: number;
  name: string;
  price: number;
  quantity: number;
  tags: string[];
  attrs: Record<string, string>;
}

/** Generates the bench.v1 stubs into a temp dir (importing the runtime from src/) and loads them. */
async function loadBenchStubs(dir: string): Promise<new (invoker: CallInvoker) => BenchClientLike> {
  const root = new URL("../..", import.meta.url).pathname;
  const compiled = compile([join(root, "bench/bench.ridl")]);
  if (compiled.model === null) throw new Error(`bench.ridl does not compile: ${JSON.stringify(compiled.diagnostics)}`);
  const [file] = generate(compiled.model, { version: "0.0.0-test", runtime: join(root, "src") });
  if (file === undefined) throw new Error("codegen produced no file for bench.ridl");
  const path = join(dir, file.path);
  // zod comes through src/zod.ts, so the temp dir needs no node_modules of its own.
  await Bun.write(path, file.content);
  const mod = (await import(path)) as { BenchClient: new (invoker: CallInvoker) => BenchClientLike };
  return mod.BenchClient;
}

const ENCODERS = ["msgpackr", "direct"] as const;

for (const encoder of ENCODERS) {
  describe(`bun-listen peer (--encoder ${encoder})`, () => {
    let peer: ServerProcess;

    beforeAll(async () => {
      peer = await startServer("bench/peers/bun-listen-rpc.ts", ["--port", "0", "--encoder", encoder], { timeoutMs: READY_TIMEOUT_MS });
    });

    afterAll(async () => {
      if (peer === undefined) return;
      peer.proc.kill("SIGTERM");
      const kill = setTimeout(() => peer.proc.kill("SIGKILL"), 2000);
      expect(await peer.proc.exited).toBe(0);
      clearTimeout(kill);
    });

    describe("raw socket", () => {
      test("announces itself with the contender ready line", () => {
        expect(peer.host).toBe("127.0.0.1");
        expect(peer.port).toBeGreaterThan(0);
        expect(peer.driver).toBe("bun-listen");
        expect(peer.workers).toBe(1);
      });

      test("HELLO, unary echo and add, then 5 ticks and STATUS OK", async () => {
        const c = await RawClient.open(peer.port);
        const payload = new Uint8Array(64).map((_, i) => (i * 37 + 11) & 0xff);
        const a = 1_000_003;
        const b = -77;
        c.send(
          clientHello(),
          request(1, "echo", new Map([[1, payload]])),
          request(2, "add", new Map([[1, a], [2, b]])),
          request(3, "ticks", new Map([[1, 5], [2, 16]])),
        );
        expect(await c.next()).toEqual([1, 0, 1, 4194304, 1000, 64, 8192]);
        // Byte for byte the HELLO example of PROTOCOL.md section 2 (shortest int forms).
        const helloExample = "00000010 97 01 00 01 ce00400000 cd03e8 40 cd2000".replaceAll(" ", "");
        expect(Buffer.from(c.firstBytes.subarray(0, 20)).toString("hex")).toBe(helloExample);
        const echo = await c.next();
        expect(echo.slice(0, 2)).toEqual([5, 1]);
        expect(new Uint8Array((echo[2] as Map<number, Uint8Array>).get(1)!)).toEqual(payload);
        expect(await c.next()).toEqual([5, 2, new Map([[1, a + b]])]);
        for (let seq = 0; seq < 5; seq++) {
          const m = await c.next();
          expect(m.slice(0, 3)).toEqual([3, 3, 0]);
          const tick = m[3] as Map<number, unknown>;
          expect(tick.get(1)).toBe(seq);
          // bench.ridl: `size` bytes, each equal to seq & 0xff.
          expect(new Uint8Array(tick.get(2) as Uint8Array)).toEqual(new Uint8Array(16).fill(seq & 0xff));
        }
        expect(await c.next()).toEqual([7, 3, 0, "", null, null, null]);
        c.close();
      });

      test("echoText and order compute their replies", async () => {
        const c = await handshake(peer.port);
        const text = "héllo, wörld ✓";
        const items = [
          new Map<number, unknown>([[1, 7], [2, "pen"], [3, 1.25], [4, 4], [5, ["blue"]], [6, new Map([["ink", "gel"]])]]),
          new Map<number, unknown>([[1, 8], [2, "pad"], [3, 3.5], [4, 2], [5, []], [6, new Map()]]),
        ];
        // An unknown field id (here a timestamp) is ignored and not sent back.
        const withUnknown = new Map<number, unknown>([[1, 9], [2, "ink"], [3, 0.5], [4, 10], [5, []], [6, new Map()], [99, new Date(0)]]);
        const sent = [...items, withUnknown];
        c.send(request(1, "echoText", new Map([[1, text]])), request(2, "order", new Map<number, unknown>([[1, "ann"], [2, sent]])));
        expect(await c.next()).toEqual([5, 1, new Map([[1, text]])]);
        const order = await c.next();
        expect(order.slice(0, 2)).toEqual([5, 2]);
        const reply = order[2] as Map<number, unknown>;
        expect(reply.get(1)).toBe("ann");
        expect(reply.get(2)).toBe(1.25 * 4 + 3.5 * 2 + 0.5 * 10);
        expect(reply.get(3)).toBe(3);
        withUnknown.delete(99);
        expect(reply.get(4)).toEqual([...items, withUnknown]);
        c.close();
      });

      test("ticks wait for WINDOW credit", async () => {
        const c = await handshake(peer.port, 3);
        c.send(request(1, "ticks", new Map([[1, 7], [2, 4]])));
        const first = [await c.next(), await c.next(), await c.next()];
        expect(first.map((f) => [f[0], f[1], (f[3] as Map<number, unknown>).get(1)])).toEqual([[3, 1, 0], [3, 1, 1], [3, 1, 2]]);
        // Credit spent: nothing more until the WINDOW.
        expect(await c.idle(150)).toEqual([]);
        c.send(frameBytes([9, 1, 4]));
        for (let seq = 3; seq < 7; seq++) expect(((await c.next())[3] as Map<number, unknown>).get(1)).toBe(seq);
        expect(await c.next()).toEqual([7, 1, 0, "", null, null, null]);
        c.close();
      });

      test("a client that stops reading gets every tick in order once it resumes (short writes, drain)", async () => {
        const c = await handshake(peer.port, 100000);
        const count = 600;
        const size = 32 * 1024;
        c.sock.pause();
        c.send(request(1, "ticks", new Map([[1, count], [2, size]])));
        await Bun.sleep(300);
        c.sock.resume();
        for (let seq = 0; seq < count; seq++) {
          const m = await c.next();
          expect(m[0]).toBe(3);
          const tick = m[3] as Map<number, unknown>;
          if (tick.get(1) !== seq) throw new Error(`tick ${seq}: got seq ${String(tick.get(1))}`);
          expect((tick.get(2) as Uint8Array).length).toBe(size);
        }
        expect(await c.next()).toEqual([7, 1, 0, "", null, null, null]);
        c.close();
      });

      test("unknown method gets STATUS UNIMPLEMENTED, PING gets PONG, bad fields get INVALID_ARGUMENT", async () => {
        const c = await handshake(peer.port);
        c.send(
          frameBytes([2, 1, "bench.v1.Bench/nope", null, null, 1, new Map()]),
          frameBytes([10, 0, 12345]),
          request(2, "add", new Map<number, unknown>([[1, "x"], [2, 1]])),
          request(3, "echo", new Map([[1, new Uint8Array([9])]])),
        );
        const unimplemented = await c.next();
        expect(unimplemented.slice(0, 3)).toEqual([7, 1, 12]);
        expect(unimplemented[3]).toContain("bench.v1.Bench/nope");
        expect(await c.next()).toEqual([11, 0, 12345]);
        const invalid = await c.next();
        expect(invalid.slice(0, 3)).toEqual([7, 2, 3]);
        expect(invalid[3]).toBe("a: expected i32, found string");
        // The connection survives call-level errors.
        const echo = await c.next();
        expect(echo.slice(0, 2)).toEqual([5, 3]);
        c.close();
      });

      test("frames split at every byte are reassembled", async () => {
        const c = await handshake(peer.port);
        const bytes = request(1, "echo", new Map([[1, new Uint8Array([1, 2, 3])]]));
        for (let i = 0; i < bytes.length; i++) {
          c.send(bytes.subarray(i, i + 1));
          await Bun.sleep(1);
        }
        const echo = await c.next();
        expect(echo.slice(0, 2)).toEqual([5, 1]);
        expect(new Uint8Array((echo[2] as Map<number, Uint8Array>).get(1)!)).toEqual(new Uint8Array([1, 2, 3]));
        c.close();
      });

      test("a 1 MiB request arriving in many chunks, and the frame behind it, are both answered", async () => {
        const c = await handshake(peer.port);
        const big = new Uint8Array(1024 * 1024).map((_, i) => (i * 7) & 0xff);
        const first = request(1, "echo", new Map([[1, big]]));
        const second = request(2, "add", new Map([[1, 20], [2, 22]]));
        const both = new Uint8Array(first.length + second.length);
        both.set(first, 0);
        both.set(second, first.length);
        c.send(both);
        const echo = await c.next();
        expect(echo.slice(0, 2)).toEqual([5, 1]);
        expect(Buffer.from((echo[2] as Map<number, Uint8Array>).get(1)!).equals(Buffer.from(big))).toBe(true);
        expect(await c.next()).toEqual([5, 2, new Map([[1, 42]])]);
        c.close();
      });

      test("an oversized length prefix gets GOAWAY FRAME_TOO_LARGE and a close", async () => {
        const c = await handshake(peer.port);
        c.send(request(1, "add", new Map([[1, 1], [2, 2]])));
        expect(await c.next()).toEqual([5, 1, new Map([[1, 3]])]);
        c.send(new Uint8Array([0x00, 0x40, 0x00, 0x01]));
        const goAway = await c.next();
        expect(goAway.slice(0, 4)).toEqual([12, 0, 1, 2]);
        expect(goAway[4]).toContain("4194305");
        expect(await c.waitClosed()).toBe(true);
      });

      test("a response over the client's maxFrameBytes becomes STATUS RESOURCE_EXHAUSTED", async () => {
        const c = await RawClient.open(peer.port);
        c.send(frameBytes([1, 0, 1, 100, 1000, 64, 8192]));
        expect((await c.next())[0]).toBe(1);
        c.send(request(1, "echo", new Map([[1, new Uint8Array(200)]])), request(2, "echo", new Map([[1, new Uint8Array(10)]])));
        const tooLarge = await c.next();
        expect(tooLarge.slice(0, 3)).toEqual([7, 1, 8]);
        expect(tooLarge[3]).toContain("maxFrameBytes 100");
        expect((await c.next()).slice(0, 2)).toEqual([5, 2]);
        c.close();
      });

      test("a method-kind mismatch gets STATUS UNIMPLEMENTED and the connection goes on; an inline message without END_STREAM is PROTOCOL_ERROR (PROTOCOL.md rules 5, 18)", async () => {
        const c = await handshake(peer.port);
        const add = new Map([[1, 1], [2, 2]]);
        const skew = "client and server were built from different IDLs";
        // flags: bit 0 END_STREAM, bits 1-3 the declared kind (2 server_stream, 4 bidi).
        c.send(
          frameBytes([2, 1, "bench.v1.Bench/add", null, null, 1 | (2 << 1), add]),
          frameBytes([2, 2, "bench.v1.Bench/ticks", null, null, 4 << 1]),
          frameBytes([2, 3, "bench.v1.Bench/add", null, null, 1]),
          frameBytes([2, 4, "bench.v1.Bench/add", null, null, 1 | (1 << 1), add]),
        );
        expect(await c.next()).toEqual([7, 1, 12, `method kind mismatch on bench.v1.Bench/add: client server_stream, server unary; ${skew}`, null, null, null]);
        expect(await c.next()).toEqual([7, 2, 12, `method kind mismatch on bench.v1.Bench/ticks: client bidi, server server_stream; ${skew}`, null, null, null]);
        const undeclared = await c.next();
        expect(undeclared.slice(0, 4)).toEqual([7, 3, 12, `method kind mismatch on bench.v1.Bench/add: client client_stream or bidi (its REQUEST has no inline message), server unary; ${skew}`]);
        expect(await c.next()).toEqual([5, 4, new Map([[1, 3]])]);
        c.send(frameBytes([2, 5, "bench.v1.Bench/add", null, null, 0, add]));
        const goAway = await c.next();
        expect(goAway).toEqual([12, 0, 5, 1, "REQUEST 5 carries an inline message without END_STREAM"]);
        expect(await c.waitClosed()).toBe(true);
      });

      test("a first frame that is not HELLO gets GOAWAY PROTOCOL_ERROR", async () => {
        const c = await RawClient.open(peer.port);
        c.send(request(1, "add", new Map([[1, 1], [2, 2]])));
        expect(await c.next()).toEqual([1, 0, 1, 4194304, 1000, 64, 8192]);
        const goAway = await c.next();
        expect(goAway.slice(0, 4)).toEqual([12, 0, 0, 1]);
        expect(await c.waitClosed()).toBe(true);
      });
    });

    describe("ringrpc client", () => {
      test("every bench.v1 method round-trips through createChannel", async () => {
        const dir = mkdtempSync(join(tmpdir(), "ringrpc-bench-stubs-"));
        const rt = await createEpollRuntime();
        const channel = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: peer.port }], connectionsPerEndpoint: 2 });
        try {
          const BenchClient = await loadBenchStubs(dir);
          const client = new BenchClient(channel);
          const data = new Uint8Array(64).map((_, i) => (i * 13) & 0xff);
          expect((await client.echo({ data })).data).toEqual(data);
          expect(await client.echoText({ text: "zwölf ✓" })).toEqual({ text: "zwölf ✓" });
          expect(await client.add({ a: 2147483647, b: 2147483647 })).toEqual({ sum: 4294967294n });
          const items: Item[] = [
            { id: 1, name: "cup", price: 2.5, quantity: 3, tags: ["a", "b"], attrs: { colour: "red" } },
            { id: 2, name: "lid", price: 0.75, quantity: 4, tags: [], attrs: {} },
          ];
          const order = await client.order({ customer: "bo", items });
          expect(order.customer).toBe("bo");
          expect(order.total).toBe(2.5 * 3 + 0.75 * 4);
          expect(order.count).toBe(2);
          expect(order.items).toEqual(items);
          // More ticks than one window (64): the client's WINDOW grants must keep the stream going.
          const seqs: number[] = [];
          for await (const t of client.ticks({ count: 150, size: 8 })) {
            expect(t.data.length).toBe(8);
            seqs.push(t.seq);
          }
          expect(seqs).toEqual(Array.from({ length: 150 }, (_, i) => i));
          const many = await Promise.all(Array.from({ length: 200 }, (_, i) => client.echo({ data: new Uint8Array([i & 0xff, i >> 8]) })));
          many.forEach((r, i) => expect(r.data).toEqual(new Uint8Array([i & 0xff, i >> 8])));
        } finally {
          await channel.close();
          await rt.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }, 10000);
    });
  });
}
