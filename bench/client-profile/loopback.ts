/**
 * The client alone, without a kernel: createChannel over an in-process fake
 * runtime whose one connection answers every bench.v1.Bench/echo REQUEST with
 * a canned RESPONSE (the request's id, a 64-byte reply) one macrotask later.
 * What is left is the client's own work per call: the call object and its
 * promise, REQUEST encoding, the flush, frame splitting, RESPONSE decoding
 * and settling. Prints µs of CPU per call and, under BUN_JSC_logGC=1 with
 * BUN_JSC_useConcurrentGC=0, the same markers client.ts prints so run.ts's
 * gc-log.ts can count heap bytes per call.
 *   bun bench/client-profile/loopback.ts [--calls 1000000] [--depth 32]
 */
import { BenchClient, EchoReplyType } from "../gen/bench.ts";
import { intFlag, parseArgs } from "../../src/cli/args.ts";
import { MsgReader } from "../../src/codec/reader.ts";
import { MsgWriter } from "../../src/codec/writer.ts";
import { createChannel } from "../../src/rpc/client.ts";
import { writeHello } from "../../src/rpc/frames.ts";
import { DEFAULT_LIMITS, FrameType } from "../../src/rpc/protocol.ts";
import type { BufResult, Conn, ConnSink, Runtime, SendDone } from "../../src/runtime/types.ts";
import { ALLOC_END, ALLOC_START } from "./gc-log.ts";

function noop(): void {}

/** A connection whose peer is a canned echo server, answering a whole write in one chunk. */
class EchoPeer {
  readonly id = 1;
  readonly remote = null;
  closed = false;
  /** writeAll calls and chunks delivered: calls per write is the client's batch size. */
  writes = 0;
  chunks = 0;
  private sink: ConnSink | null = null;
  private readonly out = new MsgWriter(64 * 1024);
  private readonly r = new MsgReader();
  private readonly replyBody: Uint8Array;
  private readonly deliverFn = () => this.deliver();

  constructor() {
    const w = new MsgWriter(256);
    EchoReplyType.encode(w, { data: new Uint8Array(64).fill(0x61) });
    this.replyBody = w.buf.slice(0, w.pos);
    writeHello(this.out, DEFAULT_LIMITS);
  }

  stream(sink: ConnSink): void {
    this.sink = sink;
    setImmediate(this.deliverFn);
  }

  writeAll<B extends Uint8Array>(buf: B): Promise<BufResult<B>> {
    this.send(buf, noop);
    return Promise.resolve({ res: buf.length, buf, error: null });
  }

  send(buf: Uint8Array, done: SendDone): void {
    this.writes++;
    const r = this.r;
    let off = 0;
    const wasEmpty = this.out.pos === 0;
    while (off < buf.length) {
      const len = ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
      r.reset(buf, off + 4, off + 4 + len);
      r.arrayHeader();
      const type = r.int();
      const id = r.int();
      if (type === FrameType.REQUEST) {
        const w = this.out;
        const at = w.reserve(4);
        w.arrayHeader(3);
        w.int(FrameType.RESPONSE);
        w.int(id);
        w.raw(this.replyBody);
        w.setU32BE(at, w.pos - at - 4);
      }
      off += 4 + len;
    }
    if (wasEmpty && this.out.pos > 0) setImmediate(this.deliverFn);
    done(buf.length, null);
  }

  private deliver(): void {
    const n = this.out.pos;
    if (n === 0 || this.sink === null) return;
    this.chunks++;
    const chunk = this.out.buf.slice(0, n);
    this.out.reset();
    this.sink.data(chunk);
  }

  read(): never {
    throw new Error("EchoPeer: stream() only");
  }
  write(): never {
    throw new Error("EchoPeer: stream() only");
  }
  pause(): void {}
  resume(): void {}
  setNoDelay(): void {}
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Just enough Runtime for one client connection: defer runs on a microtask, buffers are plain. */
function fakeRuntime(peer: EchoPeer): Runtime {
  let defers: (() => void)[] = [];
  const runDefers = (): void => {
    const list = defers;
    defers = [];
    for (const fn of list) fn();
  };
  return {
    driver: "epoll",
    buffers: { acquire: (n: number) => new Uint8Array(n), release: () => {} },
    listen: () => Promise.reject(new Error("no listen")),
    connect: () => Promise.resolve(peer as unknown as Conn),
    sleep: (ms: number) => new Promise((r) => setTimeout(r, ms)),
    timeout: (_ms, op) => op(new AbortController().signal),
    defer: (fn: () => void) => {
      if (defers.push(fn) === 1) setImmediate(runDefers);
    },
    stats: () => ({ steps: 0, enters: -1, submitted: 0, completed: 0 }),
    close: async () => {},
  };
}

const args = parseArgs(process.argv.slice(2), { values: ["calls", "depth"] });
const total = intFlag(args, "calls", 1_000_000, 1);
const depth = intFlag(args, "depth", 32, 1);
const peer = new EchoPeer();
const ch = createChannel(fakeRuntime(peer), { endpoints: [{ host: "127.0.0.1", port: 1 }] });
const client = new BenchClient(ch);
const req = { data: new Uint8Array(64).fill(0x61) };

async function calls(n: number): Promise<void> {
  let left = n;
  const one = async (): Promise<void> => {
    while (left > 0) {
      left--;
      const r = await client.echo(req);
      if (r.data.length !== 64) throw new Error("bad echo reply");
    }
  };
  await Promise.all(Array.from({ length: depth }, one));
}

await calls(100_000);
Bun.gc(true);
console.error(ALLOC_START);
const writes0 = peer.writes;
const chunks0 = peer.chunks;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await calls(total);
const secs = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
console.error(ALLOC_END);
Bun.gc(true);
console.log(JSON.stringify({ calls: total, depth, us_per_call: +((cpu.user + cpu.system) / total).toFixed(3), calls_per_s: Math.round(total / secs), calls_per_write: +(total / (peer.writes - writes0)).toFixed(1), calls_per_chunk: +(total / (peer.chunks - chunks0)).toFixed(1) }));
await ch.close();
process.exit(0);
