/**
 * io_uring driver: ring ownership and lifecycle. Each runtime holds its own
 * io_uring instance and frees it on close (counted through /proc/self/fd),
 * close() is safe twice, ops after close fail cleanly, and a missing native
 * library is reported as DriverUnavailable with the fix.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readlinkSync } from "node:fs";
import { createUringRuntime } from "../../src/runtime/uring/runtime.ts";
import { probeUring } from "../../src/runtime/uring/probe.ts";

const probe = probeUring();
const it = (name: string, fn: () => Promise<void> | void, timeoutMs = 10_000) => test.skipIf(!probe.ok)(name, fn, timeoutMs);

function ringFds(): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === "anon_inode:[io_uring]") n++;
    } catch {
      // the fd readdir itself used is gone already
    }
  }
  return n;
}

describe(`uring ring lifecycle${probe.ok ? "" : ` (skipped: ${probe.reason})`}`, () => {
  it("the probe names its features", () => {
    expect(probe.errno).toBe(0);
    expect(probe.reason).toBe("");
    expect(probe.features).toContain("RING");
    expect(probe.features).toContain("MULTISHOT_RECV");
    expect(probe.bits & 1).toBe(1);
  });

  it("each runtime holds its own io_uring instance and close() frees it", async () => {
    const before = ringFds();
    const a = createUringRuntime();
    const b = createUringRuntime();
    expect(ringFds()).toBe(before + 2);
    await a.close();
    expect(ringFds()).toBe(before + 1);
    await b.close();
    expect(ringFds()).toBe(before);
  });

  it("close() twice is safe and later operations fail with a clear error", async () => {
    const rt = createUringRuntime();
    const l = await rt.listen({ port: 0 });
    const first = rt.close();
    expect(rt.close()).toBe(first);
    await first;
    await rt.close();
    const err = await rt.listen({ port: 0 }).then(
      () => null,
      (e: unknown) => e as { code?: string; message?: string },
    );
    expect(err?.code).toBe("EBADF");
    expect(err?.message).toContain("runtime is closed");
    const slept = await rt.sleep(1).then(
      () => null,
      (e: unknown) => e as { code?: string },
    );
    expect(slept?.code).toBe("ECANCELED");
    await l.close(); // already closed by the runtime: resolves
  });

  it("close() detaches the arena: a buffer held past close reads as empty instead of crashing", async () => {
    const rt = createUringRuntime();
    const buf = rt.buffers.acquire(256);
    buf.fill(1);
    expect(buf.length).toBe(256);
    await rt.close();
    expect(buf.length).toBe(0);
    expect(buf[0]).toBeUndefined();
  });

  it("listens and connects over IPv6 loopback", async () => {
    const rt = createUringRuntime();
    const l = await rt.listen({ host: "::1", port: 0 });
    const accepted = l.accept();
    const c = await rt.connect({ host: "::1", port: l.port });
    const s = await accepted;
    expect(c.remote).toEqual({ address: "::1", port: l.port });
    expect(s.remote?.address).toBe("::1");
    expect((await c.writeAll(new Uint8Array([1, 2, 3]))).res).toBe(3);
    const r = await s.read(new Uint8Array(8));
    expect(r.res).toBe(3);
    await rt.close();
  });

  it("stats() comes from the ring's counters", async () => {
    const rt = createUringRuntime();
    const s0 = rt.stats();
    for (let i = 0; i < 5; i++) await rt.sleep(1);
    const s1 = rt.stats();
    expect(s1.submitted - s0.submitted).toBe(5);
    expect(s1.completed - s0.completed).toBe(5);
    expect(s1.enters).toBeGreaterThan(s0.enters);
    expect(s1.steps).toBeGreaterThanOrEqual(s1.enters - 1);
    await rt.close();
  });

  it("connect to a closed port names ECONNREFUSED and connect; abort cancels a connect", async () => {
    const rt = createUringRuntime();
    const l = await rt.listen({ port: 0, reusePort: false });
    const port = l.port;
    await l.close();
    const err = await rt.connect({ host: "127.0.0.1", port }).then(
      () => null,
      (e: unknown) => e as { code?: string; syscall?: string; message?: string },
    );
    expect(err?.code).toBe("ECONNREFUSED");
    expect(err?.syscall).toBe("connect");
    expect(err?.message).toContain(`127.0.0.1:${port}`);
    const aborted = await rt.connect({ host: "127.0.0.1", port, signal: AbortSignal.abort() }).then(
      () => null,
      (e: unknown) => e as { name?: string },
    );
    expect(aborted?.name).toBe("AbortError");
    const bad = await rt.connect({ host: "localhost", port }).then(
      () => null,
      (e: unknown) => e as { message?: string },
    );
    expect(bad?.message).toContain("numeric");
    await rt.close();
  });
});

test("a missing native library is DriverUnavailable with the fix", () => {
  const script = `
    const { probeUring } = await import(${JSON.stringify(new URL("../../src/runtime/uring/probe.ts", import.meta.url).pathname)});
    const { createUringRuntime } = await import(${JSON.stringify(new URL("../../src/runtime/uring/runtime.ts", import.meta.url).pathname)});
    const p = probeUring();
    let thrown = null;
    try { createUringRuntime(); } catch (e) { thrown = { name: e.name, code: e.code, message: e.message }; }
    console.log(JSON.stringify({ ok: p.ok, reason: p.reason, thrown }));
  `;
  const out = Bun.spawnSync([process.execPath, "-e", script], {
    env: { ...process.env, RINGRPC_NATIVE_LIB: "/nonexistent/libringrpc.so" },
    timeout: 10_000,
  });
  const got = JSON.parse(out.stdout.toString().trim()) as { ok: boolean; reason: string; thrown: { name: string; code: string; message: string } };
  expect(got.ok).toBe(false);
  expect(got.reason).toBe("RINGRPC_NATIVE_LIB=/nonexistent/libringrpc.so does not exist; point RINGRPC_NATIVE_LIB at a libringrpc.so built for this machine, or unset it");
  expect(got.thrown.name).toBe("DriverUnavailable");
  expect(got.thrown.code).toBe("DRIVER_UNAVAILABLE");
  expect(got.thrown.message).toBe(`uring driver unavailable: ${got.reason}`);
});
