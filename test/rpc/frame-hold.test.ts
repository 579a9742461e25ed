/**
 * FrameDecoder.hold/release: no frame is delivered while held, every byte
 * read meanwhile is kept (the rest of the chunk, later chunks, a frame split
 * across them), release delivers them in order and may hold again part-way
 * without losing or repeating a frame; stop() drops what was kept. Also a
 * push of a region [from, to) of a larger buffer (a driver's own view): no
 * byte past `to` is read, held or kept.
 */
import { describe, expect, test } from "bun:test";
import { FrameDecoder } from "../../src/rpc/frame-decoder.ts";

/** Frames with bodies [i, i, i] (i = 1..count), each prefixed with its u32 length. */
function frames(count: number): Uint8Array {
  const out = new Uint8Array(count * 7);
  for (let i = 0; i < count; i++) {
    out.set([0, 0, 0, 3, i + 1, i + 1, i + 1], i * 7);
  }
  return out;
}

describe("FrameDecoder hold/release", () => {
  test("held after the second frame: the rest of the chunk and a later chunk wait, then arrive in order", () => {
    const d = new FrameDecoder(1024);
    const got: number[] = [];
    const onFrame = (buf: Uint8Array, start: number) => {
      got.push(buf[start]!);
      if (got.length === 2) d.hold();
    };
    const all = frames(6);
    expect(d.push(all.slice(0, 4 * 7 + 2), onFrame)).toBe("ok"); // frames 1-4 and 2 bytes of frame 5
    expect(got).toEqual([1, 2]);
    expect(d.isHeld).toBe(true);
    expect(d.buffered).toBe(2 * 7 + 2);
    expect(d.push(all.slice(4 * 7 + 2), onFrame)).toBe("ok"); // the rest, while held
    expect(got).toEqual([1, 2]);
    expect(d.buffered).toBe(4 * 7);
    expect(d.release(onFrame)).toBe("ok");
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);
    expect(d.buffered).toBe(0);
  });

  test("holding again during release delivers each frame exactly once", () => {
    const d = new FrameDecoder(1024);
    const got: number[] = [];
    const onFrame = (buf: Uint8Array, start: number) => {
      got.push(buf[start]!);
      d.hold(); // hold after every frame
    };
    d.push(frames(5), onFrame);
    expect(got).toEqual([1]);
    for (let i = 0; i < 10 && d.isHeld; i++) d.release(onFrame);
    expect(got).toEqual([1, 2, 3, 4, 5]);
    d.release(onFrame);
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect(d.buffered).toBe(0);
  });

  test("held right after the chunk's last frame: release delivers nothing twice", () => {
    const d = new FrameDecoder(1024);
    const got: number[] = [];
    const onFrame = (buf: Uint8Array, start: number) => {
      got.push(buf[start]!);
      if (buf[start] === 3) d.hold();
    };
    d.push(frames(3), onFrame);
    d.release(onFrame);
    d.release(onFrame);
    expect(got).toEqual([1, 2, 3]);
  });

  test("a frame split across chunks while held is assembled on release; stop() drops what was kept", () => {
    const d = new FrameDecoder(1024);
    const got: number[] = [];
    const onFrame = (buf: Uint8Array, start: number) => got.push(buf[start]!);
    d.hold();
    const all = frames(2);
    for (let i = 0; i < all.length; i++) d.push(all.subarray(i, i + 1), onFrame); // one byte per chunk
    expect(got).toEqual([]);
    expect(d.buffered).toBe(14);
    d.release(onFrame);
    expect(got).toEqual([1, 2]);
    d.hold();
    d.push(frames(1), onFrame);
    d.stop();
    expect(d.buffered).toBe(0);
    expect(d.release(onFrame)).toBe("stopped");
    expect(got).toEqual([1, 2]);
  });

  test("an oversized length read on release is still refused from the prefix", () => {
    const d = new FrameDecoder(16);
    d.hold();
    d.push(new Uint8Array([0, 0, 1, 0, 9, 9]), () => {});
    expect(d.release(() => {})).toBe("too_large");
    expect(d.rejectedLength).toBe(256);
  });

  test("a region [from, to) of a larger buffer: nothing past `to` is read, kept or held", () => {
    const d = new FrameDecoder(1024);
    const got: number[] = [];
    const onFrame = (buf: Uint8Array, start: number, end: number) => {
      expect(end - start).toBe(3);
      got.push(buf[start]!);
      if (buf[start] === 5) d.hold();
    };
    const all = frames(6);
    // Past each region's end: a plausible frame of 1 byte (0, 0, 0, 1, 99) that must never show up.
    const region = (bytes: Uint8Array, at: number) => {
      const r = new Uint8Array(at + bytes.length + 16).fill(7);
      r.set(bytes, at);
      r.set([0, 0, 0, 1, 99], at + bytes.length);
      return r;
    };
    const a = all.subarray(0, 2 * 7 + 3); // frames 1-2 and 3 bytes of frame 3
    expect(d.push(region(a, 10), onFrame, 10, 10 + a.length)).toBe("ok");
    expect(got).toEqual([1, 2]);
    expect(d.buffered).toBe(3);
    const b = all.subarray(2 * 7 + 3, 5 * 7 + 2); // the rest of frame 3, frames 4-5, 2 bytes of frame 6
    expect(d.push(region(b, 50), onFrame, 50, 50 + b.length)).toBe("ok");
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect(d.isHeld).toBe(true);
    expect(d.buffered).toBe(2);
    const c = all.subarray(5 * 7 + 2); // the rest of frame 6, while held
    expect(d.push(region(c, 3), onFrame, 3, 3 + c.length)).toBe("ok");
    expect(d.buffered).toBe(7);
    expect(d.release(onFrame)).toBe("ok");
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);
    expect(d.buffered).toBe(0);
  });
});
