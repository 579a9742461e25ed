/**
 * The fuzz oracles can fail: each property of scripts/fuzz/codec-oracle.ts
 * and scripts/fuzz/frame-oracle.ts is shown red on a codec or decoder
 * broken on purpose (a fake target, or a library method swapped out for the
 * length of one test), and green on the real thing.
 */
import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { frameVocabulary } from "../../scripts/fuzz/cases.ts";
import { checkCodecInput, checkCodecValue } from "../../scripts/fuzz/codec-oracle.ts";
import { type CodecTarget, codecTargets } from "../../scripts/fuzz/codec-targets.ts";
import { checkFrameCase, checkValidStream } from "../../scripts/fuzz/frame-oracle.ts";
import { randomFrameStream } from "../../scripts/fuzz/frame-corpus.ts";
import { Rand } from "../../scripts/fuzz/prng.ts";
import { DecodeError } from "../../src/codec/errors.ts";
import { MsgReader } from "../../src/codec/reader.ts";
import { MsgWriter } from "../../src/codec/writer.ts";
import { FrameDecoder } from "../../src/rpc/frame-decoder.ts";
import { writeIdOnly, writeMessage } from "../../src/rpc/frames.ts";

const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex.replaceAll(" ", ""), "hex"));

/** A codec of one u32 field `n` ({1: n}), with hooks to break it. */
function fakeTarget(over: Partial<CodecTarget> = {}): CodecTarget {
  return {
    name: "fuzz.Fake",
    kind: "struct",
    random: () => ({ n: 1 }),
    encode(w, v) {
      w.mapHeader(1);
      w.int(1);
      w.int((v as { n: number }).n);
    },
    decode(r) {
      const count = r.mapHeader();
      let n = 0;
      for (let i = 0; i < count; i++) {
        r.int();
        n = r.u32();
      }
      return { n };
    },
    view: (v) => v,
    schema: z.object({ n: z.uint32() }),
    validate: null,
    messageType: null,
    errorType: null,
    ...over,
  };
}

/** Runs fn with `proto[name]` replaced by `fake`, restoring it afterwards. */
function withPatched<T extends object>(proto: T, name: string, fake: unknown, fn: () => void): void {
  const p = proto as Record<string, unknown>;
  const original = p[name];
  p[name] = fake;
  try {
    fn();
  } finally {
    p[name] = original;
  }
}

describe("codec oracle", () => {
  test("a well-behaved codec passes, on good and on bad input", () => {
    expect(checkCodecInput(fakeTarget(), bytes("81 01 05"))).toBeNull();
    expect(checkCodecInput(fakeTarget(), bytes("81 01 a1 78"))).toBeNull();
    expect(checkCodecValue(fakeTarget(), { n: 7 })).toEqual({ bytes: bytes("81 01 07") });
  });

  test("a decoder that throws a TypeError is caught, also when a DecodeError wraps it", () => {
    const raw = fakeTarget({ decode: () => (null as unknown as { x: number }).x });
    expect(checkCodecInput(raw, bytes("80"))?.property).toBe("decoder threw TypeError");
    const wrapped = fakeTarget({
      decode: () => {
        try {
          return (null as unknown as { x: number }).x;
        } catch (e) {
          throw DecodeError.at(e, "x");
        }
      },
    });
    expect(checkCodecInput(wrapped, bytes("80"))?.property).toBe("decoder threw TypeError (wrapped in a DecodeError)");
  });

  test("a reader whose header check is gone is caught before the decoder allocates", () => {
    const lying = function (this: MsgReader) {
      this.pos++;
      return 1_000_000;
    };
    withPatched(MsgReader.prototype, "mapHeader", lying, () => {
      const f = checkCodecInput(fakeTarget(), bytes("81 01 05"));
      expect(f?.property).toBe("header length past the input");
      expect(f?.detail).toBe("mapHeader returned 1000000 entries with 2 bytes left");
    });
  });

  test("a decoded value outside the schema, an unstable encoder and a lossy round trip are each caught", () => {
    const lax = fakeTarget({ schema: z.object({ n: z.number().max(3) }) });
    expect(checkCodecInput(lax, bytes("81 01 05"))?.property).toBe("decoded value fails the zod schema");
    let calls = 0;
    const unstable = fakeTarget({
      encode(w, v) {
        w.mapHeader(1);
        w.int(1);
        if (calls++ % 2 === 0) w.int((v as { n: number }).n);
        else w.raw(bytes("ce 00 00 00 05"));
      },
    });
    expect(checkCodecInput(unstable, bytes("81 01 05"))?.property).toBe("re-encoding is not stable");
    const lossy = fakeTarget({ encode: (w) => w.raw(bytes("81 01 00")) });
    expect(checkCodecInput(lossy, bytes("81 01 05"))?.property).toBe("re-encoded value decodes differently");
    expect((checkCodecValue(lossy, { n: 5 }) as { property: string }).property).toBe("valid value does not round-trip");
  });

  test("INVALID_ARGUMENT must name the field the codec names", () => {
    const entry = codecTargets().find((t) => t.name === "kv.v1.Entry")!;
    // {1: 5}: key is an int, not a string: a DecodeError at "key" that the server maps to "field key".
    expect(checkCodecInput(entry, bytes("81 01 05"))).toBeNull();
    const renamed: CodecTarget = {
      ...entry,
      decode(r) {
        try {
          return entry.decode(r);
        } catch (e) {
          throw DecodeError.at(e, "elsewhere");
        }
      },
    };
    // The server decodes with the real codec (messageType), so its field path no longer matches the one the fake reports.
    expect(checkCodecInput(renamed, bytes("81 01 05"))?.property).toBe("INVALID_ARGUMENT does not name the field");
  });
});

describe("frame oracle", () => {
  const vocab = frameVocabulary();
  const stream = (() => {
    const w = new MsgWriter();
    writeIdOnly(w, 8, 3);
    writeMessage(w, 3, 0, codecTargets().find((t) => t.name === "kv.v1.GetRequest")!.messageType!, { key: "k" }, 1 << 20);
    return w.bytes().slice();
  })();

  test("a valid stream passes, whole and cut at every byte", () => {
    const everyByte = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
    expect(checkFrameCase({ bytes: stream, splits: everyByte, limit: 1024, stopAfter: -1 }, vocab)).toBeNull();
    expect(checkFrameCase({ bytes: stream, splits: [2, 9], limit: 1024, stopAfter: 1 }, vocab)).toBeNull();
  });

  test("a decoder that allocates the whole claimed length up front is caught", () => {
    const greedy = function (this: { partial: Uint8Array[]; partialLen: number; partialCap: number; lastFill: number; partialNeed: number }, len: number) {
      this.partial = [new Uint8Array(len)];
      this.partialLen = 0;
      this.partialCap = len;
      this.lastFill = 0;
      this.partialNeed = len;
    };
    withPatched(FrameDecoder.prototype, "beginPartial", greedy, () => {
      const f = checkFrameCase({ bytes: bytes("00 01 11 70 97 02"), splits: [], limit: 70_000, stopAfter: -1 }, vocab);
      expect(f?.property).toBe("allocates for bytes not received");
    });
  });

  test("a decoder that loses a byte of a split length prefix is caught", () => {
    const push = FrameDecoder.prototype.push;
    const dropping = function (this: FrameDecoder, chunk: Uint8Array, onFrame: Parameters<FrameDecoder["push"]>[1]) {
      return push.call(this, chunk.length === 1 ? chunk.subarray(1) : chunk, onFrame);
    };
    withPatched(FrameDecoder.prototype, "push", dropping, () => {
      const everyByte = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
      expect(checkFrameCase({ bytes: stream, splits: everyByte, limit: 1024, stopAfter: -1 }, vocab)?.property).toBe("split feed differs from one chunk");
    });
  });

  test("a frame reader that throws a RangeError is caught", () => {
    const readInt = MsgReader.prototype.int;
    const throwing = function (this: MsgReader) {
      const v = readInt.call(this);
      if (v === 8) throw new RangeError("eight");
      return v;
    };
    withPatched(MsgReader.prototype, "int", throwing, () => {
      expect(checkFrameCase({ bytes: stream, splits: [], limit: 1024, stopAfter: -1 }, vocab)?.property).toBe("frame reader threw RangeError");
    });
  });

  test("a valid stream must read back what was written", () => {
    const s = randomFrameStream(new Rand(11));
    expect(checkValidStream(s.bytes, s.expected, vocab)).toBeNull();
    const wrongId = s.expected.map((e, i) => (i === 0 ? { ...e, id: e.id + 1 } : e));
    expect(checkValidStream(s.bytes, wrongId, vocab)?.property).toBe("valid frame does not read back");
  });
});
