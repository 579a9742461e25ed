/**
 * TLS end to end: the kv example server in its own process with
 * `--tls-cert/--tls-key [--tls-client-ca]` (serve({ tls })), called through
 * createChannel({ tls }) on the epoll driver with the health service's
 * generated client (a unary check and a server-streaming watch). A TLS
 * call works, mutual TLS works, and a client that does not trust the
 * server's CA, a server with an expired certificate, a client without a
 * certificate and one with a stranger's certificate under
 * requireClientCert each fail with UNAVAILABLE naming the TLS reason and
 * what to do, while the server's stderr names the reason on its side.
 * Startup: TLS options that cannot work, or TLS with the io_uring driver
 * forced, stop the server with one line; auto picks epoll and says why.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type Channel, createChannel } from "../../src/rpc/client.ts";
import type { RpcError } from "../../src/rpc/status.ts";
import { createEpollRuntime } from "../../src/runtime/epoll/runtime.ts";
import { probeUring } from "../../src/runtime/uring/probe.ts";
import { createUringRuntime } from "../../src/runtime/uring/runtime.ts";
import type { Runtime, TlsClientOptions } from "../../src/runtime/types.ts";
import { HealthClient, ServingStatus } from "../../src/services/gen/health.ts";
import { makeTestCerts, type TestCerts, tlsSkipReason } from "../helpers/certs.ts";
import { type ServerProcess, startServer } from "../helpers/server-process.ts";
import { skipTitle } from "../helpers/skip.ts";

const KV = join(import.meta.dir, "..", "..", "examples/kv/server.ts");
const noTls = tlsSkipReason();
const certs: TestCerts | null = noTls === null ? makeTestCerts() : null;
const c = () => certs!;
afterAll(() => certs?.remove());

type ServerKind = "tls" | "mtls" | "expired";
function serverArgs(kind: ServerKind): string[] {
  const base = ["--port", "0", "--workers", "1"];
  if (kind === "expired") return [...base, "--tls-cert", c().path("expired.crt"), "--tls-key", c().path("expired.key")];
  const tls = [...base, "--tls-cert", c().path("server.crt"), "--tls-key", c().path("server.key")];
  return kind === "mtls" ? [...tls, "--tls-client-ca", c().path("ca.crt")] : tls;
}

/** Runs body against a fresh server of that kind and a TLS channel to it; returns the server's stderr. */
async function withTls(kind: ServerKind, tls: TlsClientOptions, body: (ch: Channel, server: ServerProcess) => Promise<void>): Promise<string> {
  const server = await startServer(KV, serverArgs(kind), { env: { RINGRPC_DRIVER: "auto" } });
  const rt: Runtime = createEpollRuntime();
  const ch = createChannel(rt, { endpoints: [{ host: server.host, port: server.port }], tls, connectTimeoutMs: 2000 });
  try {
    expect(server.driver).toBe("epoll");
    await body(ch, server);
  } finally {
    await ch.close();
    await rt.close();
    expect(await server.stop()).toBe(0);
  }
  return server.stderr();
}

/** A health check that must fail; returns its error. */
async function failedCheck(ch: Channel): Promise<RpcError> {
  const e = (await new HealthClient(ch).check({ service: "" }, { timeoutMs: 2000 }).then(
    () => null,
    (err: unknown) => err,
  )) as RpcError | null;
  expect(e).not.toBeNull();
  expect(e!.code).toBe("UNAVAILABLE");
  return e!;
}

describe(skipTitle("ringrpc over TLS (kv server process, epoll)", noTls), () => {
  test.skipIf(noTls !== null)("a TLS call and a TLS stream work; the server says it runs epoll with TLS and why", async () => {
    const stderr = await withTls("tls", { ca: c().ca }, async (ch) => {
      const health = new HealthClient(ch);
      expect((await health.check({ service: "kv.v1.KeyValue" }, { timeoutMs: 2000 })).status).toBe(ServingStatus.SERVING);
      const it = health.watch({ service: "" }, { timeoutMs: 2000 })[Symbol.asyncIterator]();
      expect((await it.next()).value?.status).toBe(ServingStatus.SERVING);
      await it.return?.();
    });
    expect(stderr).toContain("driver=epoll with TLS (io_uring carries no TLS here: kTLS is ");
  });

  test.skipIf(noTls !== null)("mutual TLS: a client with a certificate from the server's --tls-client-ca is served", async () => {
    const stderr = await withTls("mtls", { ca: c().ca, cert: c().clientCert, key: c().clientKey }, async (ch) => {
      expect((await new HealthClient(ch).check({ service: "" }, { timeoutMs: 2000 })).status).toBe(ServingStatus.SERVING);
    });
    expect(stderr).not.toContain("TLS handshake");
  });

  test.skipIf(noTls !== null)("a client that does not trust the server's CA: UNAVAILABLE with the reason; the server logs the client's reset", async () => {
    const stderr = await withTls("tls", { ca: c().otherCa }, async (ch, server) => {
      const e = await failedCheck(ch);
      expect(e.message).toContain(`cannot connect to 127.0.0.1:${server.port}: TLS handshake with 127.0.0.1:${server.port} failed: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`);
      expect(e.message).toContain("give the client the CA that did (tls.ca)");
      await Bun.sleep(50);
    });
    expect(stderr).toContain("the client closed the connection during the handshake: often it does not trust this server's certificate");
  });

  test.skipIf(noTls !== null)("an expired server certificate: the server warns at start, the client fails with CERT_HAS_EXPIRED", async () => {
    const stderr = await withTls("expired", { ca: c().ca }, async (ch) => {
      const e = await failedCheck(ch);
      expect(e.message).toContain("certificate has expired (CERT_HAS_EXPIRED): the server's certificate has expired: renew it");
    });
    expect(stderr).toMatch(/ringrpc: tls\.cert \(CN=localhost\) expired on \S+: every client will refuse it \(CERT_HAS_EXPIRED\); renew it/);
  });

  test.skipIf(noTls !== null)("requireClientCert and a client without a certificate: UNAVAILABLE with the server's alert; the server logs PEER_DID_NOT_RETURN_A_CERTIFICATE", async () => {
    const stderr = await withTls("mtls", { ca: c().ca }, async (ch) => {
      const e = await failedCheck(ch);
      expect(e.message).toContain("(TLSV1_ALERT_CERTIFICATE_REQUIRED): the server requires a client certificate: give this client tls.cert and tls.key");
      await Bun.sleep(50);
    });
    expect(stderr).toContain("(PEER_DID_NOT_RETURN_A_CERTIFICATE): the client sent no certificate and this server requires one (requireClientCert)");
  });

  test.skipIf(noTls !== null)("requireClientCert and a stranger's certificate: refused after the handshake; the client is told to check its certificate, the server logs why", async () => {
    const stderr = await withTls("mtls", { ca: c().ca, cert: c().strangerCert, key: c().strangerKey }, async (ch) => {
      const e = await failedCheck(ch);
      expect(e.message).toContain("the server closed the connection right after the TLS handshake, before its HELLO");
      expect(e.message).toContain("check this client's tls.cert and tls.key");
      await Bun.sleep(50);
    });
    expect(stderr).toContain("(UNABLE_TO_VERIFY_LEAF_SIGNATURE): no CA in this server's tls.ca signed the client's certificate");
  });

  test.skipIf(noTls !== null)("TLS options that cannot work stop the server at start with one line", async () => {
    const proc = Bun.spawn([process.execPath, KV, "--port", "0", "--workers", "1", "--tls-cert", c().path("server.crt"), "--tls-key", c().path("client.key")], {
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await proc.exited).toBe(1);
    const err = (await new Response(proc.stderr).text()).trim().split("\n");
    expect(err).toEqual(["kv server: tls.key does not belong to tls.cert (CN=localhost): pass the key the certificate was issued for"]);
  });

  test.skipIf(noTls !== null)("TLS with RINGRPC_DRIVER=uring stops the server at start with one line saying why and what to do", async () => {
    const proc = Bun.spawn([process.execPath, KV, ...serverArgs("tls")], { stdout: "pipe", stderr: "pipe", env: { ...process.env, RINGRPC_DRIVER: "uring" } });
    expect(await proc.exited).toBe(1);
    const err = (await new Response(proc.stderr).text()).trim().split("\n");
    expect(err.length).toBe(1);
    expect(err[0]).toStartWith("kv server: uring driver unavailable: TLS was asked for and RINGRPC_DRIVER=uring, but io_uring carries no TLS here");
    expect(err[0]).toContain("leave the driver to ringrpc (it picks epoll for TLS), or end TLS in a proxy");
  });
});

const uring = probeUring();
describe(skipTitle("createChannel({ tls }) on an io_uring runtime", noTls ?? (uring.ok ? null : uring.reason)), () => {
  test.skipIf(noTls !== null || !uring.ok)("is refused at once, saying to create the runtime for epoll", async () => {
    const rt = createUringRuntime();
    try {
      expect(() => createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: 9 }], tls: { ca: c().ca } })).toThrow(
        'createChannel: tls needs a runtime on the epoll driver, this one runs uring: create it with createRuntime({ driver: "epoll" })',
      );
    } finally {
      await rt.close();
    }
  });
});
