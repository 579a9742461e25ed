/**
 * The floor: the least JavaScript an echo RPC server can run per request on
 * ringrpc's own io_uring runtime and generated codecs, as a benchmark
 * contender (`uring-floor`), so the matrix shows how much of the gap to Tokio
 * is the framework and how much is the platform (bench/RESULTS.md 0.15).
 *
 * It is not a server to copy: per frame it reads the REQUEST head, skips the
 * path, deadline, metadata and flags without checking them, decodes
 * bench.v1.EchoRequest, and answers RESPONSE with the same bytes. No method
 * table, limits, deadlines, budgets, guards or errors: a frame it does not
 * expect closes the connection. Framing (split frames included) is
 * FrameDecoder; the batch of answers is written once per runtime turn with
 * Conn.send, as the real server does.
 *
 * Usage: bun bench/floor/server.ts --port P
 * Prints `listening on 127.0.0.1:P driver=uring-floor workers=1` when ready;
 * exits 0 on SIGTERM/SIGINT.
 */
import { EchoReplyType, EchoRequestType } from "../gen/bench.ts";
import { intFlag, parseArgs } from "../../src/cli/args.ts";
import { MsgReader } from "../../src/codec/reader.ts";
import { MsgWriter } from "../../src/codec/writer.ts";
import { FrameDecoder } from "../../src/rpc/frame-decoder.ts";
import { writeHello, writeResponse } from "../../src/rpc/frames.ts";
import { DEFAULT_LIMITS, FrameType } from "../../src/rpc/protocol.ts";
import type { Conn, Runtime } from "../../src/runtime/types.ts";
import { startUringRuntime } from "../../src/runtime/uring/runtime.ts";

const MAX_FRAME_BYTES = DEFAULT_LIMITS.maxFrameBytes;

/** One connection: frames in, answers batched into one send per turn. */
function serveConnection(rt: Runtime, conn: Conn): void {
  const out = new MsgWriter(4096);
  const r = new MsgReader();
  const decoder = new FrameDecoder(MAX_FRAME_BYTES);
  let helloSeen = false;
  let scheduled = false;
  let inFlight: Uint8Array | null = null;
  const flush = (): void => {
    scheduled = false;
    if (inFlight !== null || out.pos === 0 || conn.closed) return;
    const buf = rt.buffers.acquire(out.pos);
    buf.set(out.buf.subarray(0, out.pos));
    out.reset();
    inFlight = buf;
    conn.send(buf, sent);
  };
  const sent = (res: number): void => {
    rt.buffers.release(inFlight!);
    inFlight = null;
    if (res < 0) void conn.close();
    else flush();
  };
  const onFrame = (buf: Uint8Array, start: number, end: number): void => {
    if (!helloSeen) {
      helloSeen = true;
      return;
    }
    r.reset(buf, start, end);
    const count = r.arrayHeader();
    const type = r.int();
    const id = r.int();
    if (type !== FrameType.REQUEST || count !== 7) throw new Error(`the floor serves inline REQUESTs only, got type ${type} with ${count} elements`);
    r.strSpan(); // path: only echo is served
    r.skip(); // deadline
    r.skip(); // metadata
    r.int(); // flags
    const req = EchoRequestType.decode(r);
    writeResponse(out, id, EchoReplyType, { data: req.data }, MAX_FRAME_BYTES);
  };
  const dataIn = (buf: Uint8Array, start: number, end: number): void => {
    try {
      if (decoder.push(buf, onFrame, start, end) !== "ok") throw new Error("bad framing");
    } catch (e) {
      console.error(`uring-floor: closing a connection: ${e instanceof Error ? e.message : String(e)}`);
      void conn.close();
      return;
    }
    if (!scheduled && inFlight === null && out.pos > 0) {
      scheduled = true;
      rt.defer(flush);
    }
  };
  writeHello(out, DEFAULT_LIMITS);
  flush();
  conn.stream({ data: (chunk) => dataIn(chunk, 0, chunk.length), dataIn, end: () => void conn.close() });
}

const args = parseArgs(Bun.argv.slice(2), { values: ["port"] });
const port = intFlag(args, "port", 0, 0, 65535);
const rt = await startUringRuntime();
const listener = await rt.listen({ host: "127.0.0.1", port });
void (async () => {
  for (;;) serveConnection(rt, await listener.accept());
})().catch(() => {});

function shutdown(): void {
  void listener.close();
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
console.log(`listening on 127.0.0.1:${listener.port} driver=uring-floor workers=1`);
