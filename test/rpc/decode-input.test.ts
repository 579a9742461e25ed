/**
 * decodeInput's validation rule: a server asked to validate requests calls
 * validate() after decode() unless the type says its decoder already returns
 * only valid values (MessageType.decoderValidates, set by generated codecs).
 */
import { describe, expect, test } from "bun:test";
import { EchoRequestType } from "../../bench/gen/bench.ts";
import { MsgReader } from "../../src/codec/reader.ts";
import { MsgWriter } from "../../src/codec/writer.ts";
import type { MessageType } from "../../src/rpc/descriptor.ts";
import { decodeInput, InvalidInput } from "../../src/rpc/server-call.ts";
import { HealthCheckRequestType } from "../../src/services/gen/health.ts";

/** A one-int type whose validator refuses everything and counts its calls. */
function refusing(decoderValidates: boolean | undefined): MessageType<number> & { checks: number } {
  const t = {
    checks: 0,
    typeName: "test.Refused",
    encode: (w: MsgWriter, v: number) => w.int(v),
    decode: (r: MsgReader) => r.int(),
    validate: () => {
      t.checks++;
      return { path: "", message: "refused on purpose" };
    },
    ...(decoderValidates === undefined ? {} : { decoderValidates }),
  };
  return t;
}

function reader(v: number): MsgReader {
  const w = new MsgWriter(16);
  w.int(v);
  const r = new MsgReader();
  r.reset(w.buf.slice(0, w.pos), 0, w.pos);
  return r;
}

const method = (input: MessageType<unknown>) => ({ input }) as never;

describe("decodeInput validation", () => {
  test("a type without decoderValidates is validated after decoding", () => {
    const t = refusing(undefined);
    const got = decodeInput(method(t), reader(7), -1, true);
    expect(got).toBeInstanceOf(InvalidInput);
    expect((got as InvalidInput).message).toContain("refused on purpose");
    expect(t.checks).toBe(1);
    const f = refusing(false);
    expect(decodeInput(method(f), reader(7), -1, true)).toBeInstanceOf(InvalidInput);
  });

  test("a type whose decoder validates is not validated again", () => {
    const t = refusing(true);
    expect(decodeInput(method(t), reader(7), -1, true)).toBe(7);
    expect(t.checks).toBe(0);
  });

  test("validation off: no type is validated", () => {
    const t = refusing(undefined);
    expect(decodeInput(method(t), reader(7), -1, false)).toBe(7);
    expect(t.checks).toBe(0);
  });

  test("generated message types say their decoder validates", () => {
    expect(EchoRequestType.decoderValidates).toBe(true);
    expect(HealthCheckRequestType.decoderValidates).toBe(true);
  });
});
