/**
 * The operating commands' TLS flags (src/cli/tls-flags.ts) against a kv
 * server process serving mutual TLS: `ringrpc health --tls-ca --tls-cert
 * --tls-key` is SERVING (exit 0); without a client certificate, or without
 * TLS, it prints why and exits 1; a half pair of flags or an unreadable
 * file is a usage error (exit 2) naming the flag.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { makeTestCerts, type TestCerts, tlsSkipReason } from "../helpers/certs.ts";
import { type ServerProcess, startServer } from "../helpers/server-process.ts";
import { skipTitle } from "../helpers/skip.ts";

const root = join(import.meta.dir, "..", "..");
const noTls = tlsSkipReason();
let certs: TestCerts | null = null;
let server: ServerProcess | null = null;

beforeAll(async () => {
  if (noTls !== null) return;
  certs = makeTestCerts();
  server = await startServer(join(root, "examples/kv/server.ts"), [
    "--port", "0", "--workers", "1",
    "--tls-cert", certs.path("server.crt"), "--tls-key", certs.path("server.key"), "--tls-client-ca", certs.path("ca.crt"),
  ]);
});
afterAll(async () => {
  if (server !== null) expect(await server.stop()).toBe(0);
  certs?.remove();
});

function health(...args: string[]): { code: number; out: string; err: string } {
  const r = Bun.spawnSync([process.execPath, join(root, "src/cli/main.ts"), "health", `127.0.0.1:${server!.port}`, "--timeout", "2s", ...args]);
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

describe(skipTitle("ringrpc health over TLS", noTls), () => {
  test.skipIf(noTls !== null)("with the CA and a client certificate: SERVING, exit 0", () => {
    const c = certs!;
    const r = health("--tls-ca", c.path("ca.crt"), "--tls-cert", c.path("client.crt"), "--tls-key", c.path("client.key"), "--tls-server-name", "localhost");
    expect(r).toEqual({ code: 0, out: "SERVING\n", err: "" });
  });

  test.skipIf(noTls !== null)("without a client certificate, or without TLS: one line saying why, exit 1", () => {
    const noCert = health("--tls-ca", certs!.path("ca.crt"));
    expect(noCert.code).toBe(1);
    expect(noCert.out).toContain("UNAVAILABLE: connection lost: TLS session with 127.0.0.1:");
    expect(noCert.out).toContain("the server requires a client certificate");
    const plain = health();
    expect(plain.code).toBe(1);
    expect(plain.out).toStartWith("UNAVAILABLE: ");
  });

  test.skipIf(noTls !== null)("a half pair of flags or an unreadable file: a usage error naming the flag, exit 2", () => {
    const half = health("--tls-cert", certs!.path("client.crt"));
    expect(half.code).toBe(2);
    expect(half.err).toStartWith("ringrpc health: --tls-cert and --tls-key go together");
    const missing = health("--tls-ca", "/nonexistent/ca.crt");
    expect(missing.code).toBe(2);
    expect(missing.err).toStartWith("ringrpc health: --tls-ca /nonexistent/ca.crt: cannot read it (ENOENT)");
  });
});
