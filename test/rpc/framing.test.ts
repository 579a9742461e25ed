/**
 * Framing: FrameDecoder on every chunk split, the limit checked from the
 * prefix alone, the encoders against the byte examples of docs/PROTOCOL.md,
 * and a server fed one byte per chunk over an in-memory connection.
 */
import { describe, expect, test } from "bun:test";
import { MsgWriter } from "../../src/codec/writer.ts";
import { FrameDecoder } from "../../src/rpc/frame-decoder.ts";
import { writeGoAway, writeHeaders, writeHello, writeIdOnly, writeMessage, writePing, writeRequest, writeResponse, writeStatus, writeWindow } from "../../src/rpc/frames.ts";
import { DEFAULT_LIMITS, FrameType } from "../../src/rpc/protocol.ts";
import { createRpcServer } from "../../src/rpc/server.ts";
import type { ErrorType, MessageType } from "../../src/rpc/descriptor.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { KeyNotFound, KeyNotFoundType, TestService } from "./helpers/fixtures.ts";
import { until } from "./helpers/harness.ts";
import { memPair, memRuntime } from "./helpers/mem-conn.ts";
import { frameBytes, HELLO } from "./helpers/raw-peer.ts";
import { unpack } from "msgpackr";
import { makeImpl, newProbe } from "./service-impl.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const strings: MessageType<string[]> = {
  typeName: "doc.Strings",
  encode(w, v) {
    w.arrayHeader(v.length);
    for (const s of v) w.str(s);
  },
  decode(r) {
    const n = r.arrayHeader();
    return Array.from({ length: n }, () => r.str());
  },
  validate: () => null,
};

function frames(count: number): Uint8Array {
  const w = new MsgWriter();
  for (let i = 0; i < count; i++) writeRequest(w, i + 1, "a.B/c", i, undefined, 1, strings, [`m${i}`, "x".repeat(i * 3)], 1 << 20);
  return w.bytes().slice();
}

describe("FrameDecoder", () => {
  test("gives the same frames for every way of splitting the stream", () => {
    const all = frames(12);
    const expected: string[] = [];
    new FrameDecoder(1 << 20).push(all, (b, s, e) => expected.push(hex(b.subarray(s, e))));
    expect(expected.length).toBe(12);
    for (const size of [1, 2, 3, 4, 5, 7, 13, 64, all.length - 1]) {
      const d = new FrameDecoder(1 << 20);
      const got: string[] = [];
      for (let off = 0; off < all.length; off += size) expect(d.push(all.subarray(off, off + size), (b, s, e) => got.push(hex(b.subarray(s, e))))).toBe("ok");
      expect(got).toEqual(expected);
      expect(d.buffered).toBe(0);
    }
  });

  test("rejects a length over the limit from the 4-byte prefix alone", () => {
    const d = new FrameDecoder(100);
    let called = 0;
    expect(d.push(new Uint8Array([0, 0]), () => called++)).toBe("ok");
    expect(d.push(new Uint8Array([0, 101]), () => called++)).toBe("too_large");
    expect(d.rejectedLength).toBe(101);
    expect(called).toBe(0);
    expect(d.buffered).toBe(0);
    expect(d.push(new Uint8Array([1, 2, 3]), () => called++)).toBe("stopped");
  });

  test("a large frame split into many chunks is reassembled exactly", () => {
    const w = new MsgWriter();
    writeMessage(w, 9, 0, strings, ["y".repeat(300_000), "z"], 1 << 20);
    const all = w.bytes().slice();
    for (const size of [1000, 65_536, 100_003]) {
      const d = new FrameDecoder(1 << 20);
      const got: string[] = [];
      for (let off = 0; off < all.length; off += size) d.push(all.subarray(off, off + size), (b, s, e) => got.push(hex(b.subarray(s, e))));
      expect(got).toEqual([hex(all.subarray(4))]);
    }
  });

  test("a frame of exactly the limit is accepted, in one chunk and split; one byte more is refused", () => {
    const exact = new Uint8Array(4 + 100);
    exact[3] = 100;
    exact.fill(7, 4);
    for (const split of [0, 2, 50, 103]) {
      const d = new FrameDecoder(100);
      const lens: number[] = [];
      const onFrame = (_b: Uint8Array, s: number, e: number) => void lens.push(e - s);
      const results = split === 0 ? [d.push(exact, onFrame)] : [d.push(exact.subarray(0, split), onFrame), d.push(exact.subarray(split), onFrame)];
      expect({ split, results, lens }).toEqual({ split, results: results.map(() => "ok"), lens: [100] });
    }
    const over = new Uint8Array([0, 0, 0, 101]);
    const d = new FrameDecoder(100);
    expect(d.push(over, () => {})).toBe("too_large");
    expect(d.rejectedLength).toBe(101);
  });

  test("a zero length is malformed", () => {
    expect(new FrameDecoder(100).push(new Uint8Array([0, 0, 0, 0]), () => {})).toBe("empty");
  });
});

/** A message type whose encoding is given bytes (the ENCODING.md bodies used in PROTOCOL.md's examples). */
function rawBody(hexBytes: string): MessageType<null> {
  const bytes = Uint8Array.from(Buffer.from(hexBytes.replaceAll(" ", ""), "hex"));
  return { typeName: "doc.Raw", encode: (w) => w.raw(bytes), decode: () => null, validate: () => null };
}
const GET_REQUEST = "81 01 a7 75 73 65 72 3a 34 32"; // GetRequest { key: "user:42" }
const KEY_NOT_FOUND: ErrorType = { ...KeyNotFoundType, code: "kv.v1.KeyNotFound", encode: (w) => w.raw(Uint8Array.from(Buffer.from(GET_REQUEST.replaceAll(" ", ""), "hex"))) };

describe("frame encoders match docs/PROTOCOL.md", () => {
  const cases: [string, (w: MsgWriter) => void, string][] = [
    ["HELLO", (w) => writeHello(w, { maxFrameBytes: 4194304, maxConcurrentCalls: 1000, initialWindow: 64, maxMetadataBytes: 8192 }), "00 00 00 10  97 01 00 01 ce 00 40 00 00 cd 03 e8 40 cd 20 00"],
    [
      "REQUEST unary",
      (w) => writeRequest(w, 1, "kv.v1.KeyValue/get", 5000, undefined, 3, rawBody(GET_REQUEST), null, 1 << 20),
      "00 00 00 25  97 02 01 b2 6b 76 2e 76 31 2e 4b 65 79 56 61 6c 75 65 2f 67 65 74 cd 13 88 c0 03 81 01 a7 75 73 65 72 3a 34 32",
    ],
    [
      "REQUEST bidi with metadata",
      (w) => writeRequest(w, 3, "kv.v1.KeyValue/watch", undefined, { "x-user": "ann", "trace-bin": new Uint8Array([1, 2]) }, 8, null, undefined, 1 << 20),
      "00 00 00 34  96 02 03 b4 6b 76 2e 76 31 2e 4b 65 79 56 61 6c 75 65 2f 77 61 74 63 68 c0 82 a6 78 2d 75 73 65 72 a3 61 6e 6e a9 74 72 61 63 65 2d 62 69 6e c4 02 01 02 08",
    ],
    ["MESSAGE", (w) => writeMessage(w, 3, 0, rawBody("81 01 a1 6b"), null, 1 << 20), "00 00 00 08  94 03 03 00 81 01 a1 6b"],
    ["HALF_CLOSE", (w) => writeIdOnly(w, FrameType.HALF_CLOSE, 3), "00 00 00 03  92 04 03"],
    [
      "RESPONSE",
      (w) => writeResponse(w, 1, rawBody("81 01 82 01 a7 75 73 65 72 3a 34 32 02 c4 02 68 69"), null, 1 << 20),
      "00 00 00 14  93 05 01 81 01 82 01 a7 75 73 65 72 3a 34 32 02 c4 02 68 69",
    ],
    ["HEADERS", (w) => writeHeaders(w, 3, { "x-served-by": "w1" }), "00 00 00 13  93 06 03 81 ab 78 2d 73 65 72 76 65 64 2d 62 79 a2 77 31"],
    ["STATUS OK", (w) => writeStatus(w, 3, 0, "", undefined, null, null), "00 00 00 08  97 07 03 00 a0 c0 c0 c0"],
    [
      "STATUS typed",
      (w) => writeStatus(w, 1, 5, "no such key", undefined, KEY_NOT_FOUND, new KeyNotFound("user:42")),
      "00 00 00 2d  97 07 01 05 ab 6e 6f 20 73 75 63 68 20 6b 65 79 c0 b1 6b 76 2e 76 31 2e 4b 65 79 4e 6f 74 46 6f 75 6e 64 81 01 a7 75 73 65 72 3a 34 32",
    ],
    [
      "STATUS UNIMPLEMENTED",
      (w) => writeStatus(w, 2, 12, "unknown method kv.v1.KeyValue/nope", undefined, null, null),
      "00 00 00 2b  97 07 02 0c d9 22 75 6e 6b 6e 6f 77 6e 20 6d 65 74 68 6f 64 20 6b 76 2e 76 31 2e 4b 65 79 56 61 6c 75 65 2f 6e 6f 70 65 c0 c0 c0",
    ],
    ["CANCEL", (w) => writeIdOnly(w, FrameType.CANCEL, 3), "00 00 00 03  92 08 03"],
    ["WINDOW", (w) => writeWindow(w, 3, 32), "00 00 00 04  93 09 03 20"],
    ["PING", (w) => writePing(w, FrameType.PING, 7), "00 00 00 04  93 0a 00 07"],
    ["PONG", (w) => writePing(w, FrameType.PONG, 7), "00 00 00 04  93 0b 00 07"],
    ["GOAWAY", (w) => writeGoAway(w, 41, 0, "server shutting down"), "00 00 00 1a  95 0c 00 29 00 b4 73 65 72 76 65 72 20 73 68 75 74 74 69 6e 67 20 64 6f 77 6e"],
    ["GOAWAY unknown type", (w) => writeGoAway(w, 0, 8, "unknown frame type 99"), "00 00 00 1b  95 0c 00 00 08 b5 75 6e 6b 6e 6f 77 6e 20 66 72 61 6d 65 20 74 79 70 65 20 39 39"],
  ];
  const doc = readFileSync(join(import.meta.dir, "../../docs/PROTOCOL.md"), "utf8").replace(/\s+/g, " ");
  for (const [name, write, expected] of cases)
    test(name, () => {
      const w = new MsgWriter();
      write(w);
      expect(hex(w.bytes())).toBe(expected.replace(/ /g, ""));
      // The same bytes appear in the document (line breaks aside).
      expect(doc).toContain(expected.replace(/\s+/g, " "));
    });

  test("a frame over the peer's limit is rolled back and refused", () => {
    const w = new MsgWriter();
    writePing(w, FrameType.PING, 1);
    const before = hex(w.bytes());
    expect(() => writeMessage(w, 1, 0, strings, ["x".repeat(200)], 100)).toThrow("over the peer's limit of 100 bytes");
    expect(hex(w.bytes())).toBe(before);
  });
});

describe("server over an in-memory connection", () => {
  test("answers a unary call delivered one byte per chunk", async () => {
    const rt = memRuntime();
    const server = createRpcServer(rt, [{ descriptor: TestService, impl: makeImpl(newProbe()), validate: true }]);
    const [client, serverSide] = memPair();
    serverSide.chunkBytes = 1;
    const got: unknown[][] = [];
    const d = new FrameDecoder(DEFAULT_LIMITS.maxFrameBytes);
    client.stream({ data: (c) => void d.push(c, (b, s, e) => got.push(unpack(b.subarray(s, e)) as unknown[])), end: () => {} });
    server.handle(serverSide);
    await client.writeAll(frameBytes(HELLO));
    await client.writeAll(frameBytes([2, 1, "test.v1.Test/echo", 1000, { "x-a": "b" }, 1, ["one byte at a time"]]));
    expect(await until(() => got.length >= 2, 1000)).toBe(true);
    expect(got[0]![0]).toBe(FrameType.HELLO);
    expect(got[1]).toEqual([5, 1, ["one byte at a time"]]);
    await server.shutdown(10);
    expect(client.closed).toBe(true);
  });
});
