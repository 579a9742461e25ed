/**
 * Inputs the mutation fuzzer found, kept as plain tests: each names the seed
 * and case that found it and checks the fixed behaviour directly, then runs
 * the shrunk input through the fuzz oracle again.
 */
import { describe, expect, test } from "bun:test";
import { replayRaw } from "../../scripts/fuzz/replay.ts";
import { DecodeError } from "../../src/codec/errors.ts";
import { MsgReader } from "../../src/codec/reader.ts";
import { type FrameHead, readFrameHead } from "../../src/rpc/frames.ts";

const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex.replaceAll(" ", ""), "hex"));

function headError(body: string): unknown {
  const head: FrameHead = { count: 0, type: 0, id: 0 };
  try {
    readFrameHead(new MsgReader(bytes(body)), head);
  } catch (e) {
    return e;
  }
  return head;
}

describe("readFrameHead refuses a bad head with a DecodeError, never a RangeError", () => {
  // Found by `npm run fuzz -- --seed 1` at case 524, shrunk to the frame [0, -1, 0]: readFrameHead threw a RangeError.
  test("a negative call id (seed 1, case 524)", () => {
    const e = headError("93 00 ff 00");
    expect(e).toBeInstanceOf(DecodeError);
    expect((e as DecodeError).message).toBe("call id -1 is not a u32");
  });

  test("a call id past 2^32 - 1", () => {
    const e = headError("92 01 cf 00 00 00 01 00 00 00 00");
    expect(e).toBeInstanceOf(DecodeError);
    expect((e as DecodeError).message).toBe("call id 4294967296 is not a u32");
  });

  test("an array of fewer than two elements", () => {
    const e = headError("91 01");
    expect(e).toBeInstanceOf(DecodeError);
    expect((e as DecodeError).message).toBe("frame array has 1 elements, needs at least type and id");
  });

  test("the largest u32 id is still a head", () => {
    expect(headError("92 01 ce ff ff ff ff")).toEqual({ count: 2, type: 1, id: 0xffffffff });
  });

  test("the shrunk input passes the frame oracle now", () => {
    expect(replayRaw({ target: "frames", bytes: bytes("00 00 00 04 93 00 ff 00"), limit: 70_000, stopAfter: -1, splits: [5] })).toBeNull();
  });
});
