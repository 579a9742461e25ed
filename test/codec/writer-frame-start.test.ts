/**
 * MsgWriter.frameStart writes exactly what reserve(4) + arrayHeader +
 * int(type) + int(id) write (it is their one-capacity-check form on the hot
 * path), for every id size class and at a buffer's edge, where it must grow.
 */
import { expect, test } from "bun:test";
import { MsgWriter } from "../../src/codec/writer.ts";

test("frameStart equals reserve + arrayHeader + int + int for every id size and field count", () => {
  for (const id of [0, 1, 127, 128, 255, 256, 65535, 65536, 0xffffffff]) {
    for (const fields of [2, 3, 7, 15]) {
      for (const type of [1, 5, 12, 127]) {
        const a = new MsgWriter(16);
        a.int(9);
        const offA = a.frameStart(fields, type, id);
        const b = new MsgWriter(16);
        b.int(9);
        const offB = b.reserve(4);
        b.arrayHeader(fields);
        b.int(type);
        b.int(id);
        expect({ id, fields, type, off: offA, pos: a.pos, bytes: [...a.buf.subarray(offA + 4, a.pos)] }).toEqual({
          id, fields, type, off: offB, pos: b.pos, bytes: [...b.buf.subarray(offB + 4, b.pos)],
        });
      }
    }
  }
});

test("frameStart at the end of the buffer grows it first", () => {
  const w = new MsgWriter(16);
  for (let i = 0; i < 14; i++) w.int(1);
  const off = w.frameStart(3, 5, 0xffffffff);
  expect(off).toBe(14);
  expect([...w.buf.subarray(off + 4, w.pos)]).toEqual([0x93, 5, 0xce, 0xff, 0xff, 0xff, 0xff]);
});
