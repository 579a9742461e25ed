/**
 * `ringrpc doctor` and the `ringrpc` bin: the report names every fact it
 * promises, agrees with the probe, and the bin runs through its shebang.
 */
import { expect, test } from "bun:test";
import { doctorReport } from "../../src/cli/doctor.ts";
import { probeKtls } from "../../src/runtime/uring/ktls.ts";
import { probeUring } from "../../src/runtime/uring/probe.ts";

const root = new URL("../..", import.meta.url).pathname;

test("doctor reports kernel, io_uring, liburing, kTLS, limits, ring mode, wake-up latency and the driver", async () => {
  const { lines, ok } = await doctorReport();
  const keys = lines.map((l) => l.slice(0, l.indexOf(":")));
  const probe = probeUring();
  const uringKeys = probe.ok ? ["ring mode", "wake-up coop", "wake-up defer"] : [];
  expect(keys).toEqual(["kernel", "kernel.io_uring_disabled", "liburing", "native library", "io_uring", "kTLS", "max locked memory", "max open files", ...uringKeys, "driver"]);
  if (probe.ok) {
    // The default ring mode must pass its own wake-up self-test wherever io_uring runs.
    expect(lines.find((l) => l.startsWith("wake-up coop:"))).toMatch(/^wake-up coop: self-test ok: p50 [\d.]+ ms, max [\d.]+ ms, [01]\/12 late$/);
    expect(lines.find((l) => l.startsWith("wake-up defer:"))).toMatch(/^wake-up defer: self-test (ok|late)/);
  }
  const uringLine = lines.find((l) => l.startsWith("io_uring:"))!;
  expect(uringLine).toBe(probe.ok ? `io_uring: available (${probe.features.join(", ")})` : `io_uring: unavailable (${probe.reason})`);
  expect(lines.find((l) => l.startsWith("kTLS:"))).toBe(`kTLS: ${probeKtls().text}; ringrpc's TLS runs on the epoll driver either way (docs/DEPLOY.md, "TLS")`);
  expect(lines.at(-1)).toStartWith(`driver: ${probe.ok ? "uring" : "epoll"} — `);
  expect(ok).toBe(true);
});

test("the ringrpc bin runs through its #!/usr/bin/env bun shebang", () => {
  const r = Bun.spawnSync([`${root}src/cli/main.ts`, "doctor"], {
    env: { ...process.env, PATH: `${root}node_modules/.bin:${process.env.PATH}` },
  });
  expect(r.exitCode).toBe(0);
  expect(r.stdout.toString()).toContain("driver: ");
});

test("an unknown command is a usage error (exit 2) that lists the commands", () => {
  const r = Bun.spawnSync([process.execPath, `${root}src/cli/main.ts`, "frobnicate"]);
  expect(r.exitCode).toBe(2);
  expect(r.stderr.toString()).toStartWith('ringrpc: unknown command "frobnicate"');
  expect(r.stderr.toString()).toContain("check-compat");
});
