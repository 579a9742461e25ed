/**
 * A frame over the peer's maxFrameBytes is refused while it is encoded: the
 * writer never grows to hold it, the error is RESOURCE_EXHAUSTED naming the
 * limit, the writer is left where it was, and a frame that fits still goes
 * out after it (frames.ts with MsgWriter.limit).
 */
import { expect, test } from "bun:test";
import { MsgWriter } from "../../src/codec/writer.ts";
import type { MessageType } from "../../src/rpc/descriptor.ts";
import { writeMessage, writeResponse } from "../../src/rpc/frames.ts";
import { RpcError, Status } from "../../src/rpc/status.ts";

const Bytes: MessageType<Uint8Array> = {
  typeName: "test.Bytes",
  encode: (w, v) => w.bin(v),
  decode: (r) => r.bin(),
  validate: () => null,
};

test("a 64 MiB response to a peer with a 4 MiB limit fails before it is copied; the next frame is fine", () => {
  const w = new MsgWriter(16 << 10);
  writeResponse(w, 1, Bytes, new Uint8Array(10), 4 << 20);
  const before = w.pos;
  let err: unknown = null;
  try {
    writeResponse(w, 3, Bytes, new Uint8Array(64 << 20), 4 << 20);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(RpcError);
  expect((err as RpcError).status).toBe(Status.RESOURCE_EXHAUSTED);
  expect((err as RpcError).message).toContain("over the peer's limit of 4194304 bytes");
  expect(w.buf.length).toBeLessThan(8 << 20);
  expect(w.pos).toBe(before);
  expect(w.limit).toBe(Infinity);
  writeMessage(w, 5, 0, Bytes, new Uint8Array(3 << 20), 4 << 20); // fits: written whole
  expect(w.pos - before).toBeGreaterThan(3 << 20);
});

test("a body exactly at the limit is written; one byte more is refused", () => {
  // RESPONSE body: fixarray(3) type id + bin32 header (5) + n bytes = 3 + 5 + n.
  const limit = 100_000;
  const fits = new Uint8Array(limit - 8);
  const w = new MsgWriter(64);
  writeResponse(w, 1, Bytes, fits, limit);
  expect(w.pos).toBe(4 + limit);
  const w2 = new MsgWriter(64);
  expect(() => writeResponse(w2, 1, Bytes, new Uint8Array(limit - 7), limit)).toThrow(RpcError);
  expect(w2.pos).toBe(0);
});
