/**
 * io_uring driver: op slot lifecycle against a real ring. A buffer stays the
 * kernel's from submission to completion (abort included): the pool neither
 * hands it out nor accepts it back before then; ignored timers hold their
 * slot until the kernel's completion; ops on a closed conn give their
 * buffer back with an error.
 */
import { describe, expect, test } from "bun:test";
import type { Conn, Runtime } from "../../src/runtime/types.ts";
import type { UringCore } from "../../src/runtime/uring/core.ts";
import { createUringRuntime } from "../../src/runtime/uring/runtime.ts";
import { probeUring } from "../../src/runtime/uring/probe.ts";
import { SlotState } from "../../src/runtime/uring/slots.ts";

const probe = probeUring();
const it = (name: string, fn: () => Promise<void>, timeoutMs = 10_000) => test.skipIf(!probe.ok)(name, fn, timeoutMs);

function coreOf(rt: Runtime): UringCore {
  return (rt as unknown as { core: UringCore }).core;
}

async function pair(rt: Runtime): Promise<{ client: Conn; server: Conn; close(): Promise<void> }> {
  const l = await rt.listen({ port: 0 });
  const accepted = l.accept();
  const client = await rt.connect({ host: "127.0.0.1", port: l.port });
  const server = await accepted;
  return {
    client,
    server,
    async close() {
      await client.close();
      await server.close();
      await l.close();
    },
  };
}

describe(`uring op slots${probe.ok ? "" : ` (skipped: ${probe.reason})`}`, () => {
  it("an aborted read's arena buffer stays the kernel's until its completion", async () => {
    const rt = createUringRuntime();
    const p = await pair(rt);
    const buf = rt.buffers.acquire(4096);
    const ctl = new AbortController();
    const pending = p.client.read(buf, { signal: ctl.signal });
    await rt.sleep(2); // submitted: the kernel owns buf now
    ctl.abort();
    expect(() => rt.buffers.release(buf)).toThrow("in-flight operation owns it");
    const others = Array.from({ length: 16 }, () => rt.buffers.acquire(4096));
    expect(others.some((o) => o.byteOffset === buf.byteOffset)).toBe(false);
    const r = await pending;
    expect(r.buf).toBe(buf);
    expect(r.res).toBe(-125);
    expect(r.error?.code).toBe("ECANCELED");
    rt.buffers.release(buf); // the completion gave it back
    for (const o of others) rt.buffers.release(o);
    await p.close();
    await rt.close();
  });

  it("an aborted read of a plain buffer keeps its pooled copy buffer until the completion", async () => {
    const rt = createUringRuntime();
    const p = await pair(rt);
    const probeBuf = rt.buffers.acquire(4096);
    const held = probeBuf.byteOffset;
    rt.buffers.release(probeBuf); // top of the 4 KiB free list: the copy path takes it next
    const mine = new Uint8Array(4096);
    const ctl = new AbortController();
    const pending = p.client.read(mine, { signal: ctl.signal });
    await rt.sleep(2);
    ctl.abort();
    const during = rt.buffers.acquire(4096);
    expect(during.byteOffset).not.toBe(held);
    const r = await pending;
    expect(r.buf).toBe(mine);
    expect(r.error?.code).toBe("ECANCELED");
    const after = rt.buffers.acquire(4096);
    expect(after.byteOffset).toBe(held); // released only now, at the completion
    rt.buffers.release(during);
    rt.buffers.release(after);
    await p.close();
    await rt.close();
  });

  it("a read on a closed conn returns its buffer with EBADF from recv", async () => {
    const rt = createUringRuntime();
    const p = await pair(rt);
    await p.client.close();
    const buf = rt.buffers.acquire(32);
    const r = await p.client.read(buf);
    expect(r.buf).toBe(buf);
    expect(r.res).toBe(-9);
    expect(r.error?.code).toBe("EBADF");
    expect(r.error?.syscall).toBe("recv");
    rt.buffers.release(buf);
    await p.close();
    await rt.close();
  });

  it("close() during a blocked writeAll returns its buffer with an error, then closes the fd", async () => {
    const rt = createUringRuntime();
    const p = await pair(rt);
    const big = rt.buffers.acquire(32 << 20); // far more than the socket buffers hold: the send blocks
    const pending = p.client.writeAll(big);
    await rt.sleep(20);
    expect(coreOf(rt).slots.active).toBeGreaterThan(0);
    await p.client.close();
    const w = await pending;
    expect(w.buf).toBe(big);
    expect(w.res).toBeLessThan(0);
    expect(w.error?.syscall).toBe("send");
    expect(p.client.closed).toBe(true);
    rt.buffers.release(big);
    await p.close();
    await rt.close();
  });

  it("an aborted sleep rejects at once and its slot stays Ignored until the kernel's completion", async () => {
    const rt = createUringRuntime();
    const core = coreOf(rt);
    const ctl = new AbortController();
    const sleeping = rt.sleep(60_000, { signal: ctl.signal });
    await null;
    const slot = core.slots.activeSlots()[0]!;
    ctl.abort();
    expect(core.slots.state[slot]).toBe(SlotState.IGNORED);
    const err = await sleeping.then(
      () => null,
      (e: unknown) => e as { name?: string; syscall?: string },
    );
    expect(err?.name).toBe("AbortError");
    expect(err?.syscall).toBe("timeout");
    for (let i = 0; i < 50 && core.slots.active > 0; i++) await Bun.sleep(1);
    expect(core.slots.active).toBe(0);
    expect(core.strayEvents).toBe(0);
    await rt.close();
  });
});
