/**
 * The operating commands take every target a channel takes: a list of
 * addresses and a DNS name (`dns://SERVER/NAME:PORT`, resolved by a real
 * DNS server on loopback: test/helpers/dns-server.ts), against two kv
 * server processes on 127.0.0.2 and 127.0.0.3. A malformed target is a
 * usage error (exit 2, one line); a name that does not resolve is
 * UNAVAILABLE (exit 14) saying why. Each command is bounded (10 s).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type DnsServer, dnsmasqMissing, startDnsServer } from "../helpers/dns-server.ts";
import { type ServerProcess, startServer } from "../helpers/server-process.ts";
import { skipTitle } from "../helpers/skip.ts";

const ROOT = join(import.meta.dir, "..", "..");
const MAIN = join(ROOT, "src/cli/main.ts");
const KV = join(ROOT, "examples/kv/server.ts");
const missing = dnsmasqMissing();

async function ringrpc(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const kill = setTimeout(() => proc.kill("SIGKILL"), 10000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(kill);
  return { code, stdout, stderr };
}

let servers: ServerProcess[] = [];
let dns: DnsServer | null = null;
let LIST = "";
let PORT = 0;

beforeAll(async () => {
  const a = await startServer(KV, ["--host", "127.0.0.2", "--port", "0", "--workers", "1", "--driver", "epoll"]);
  servers = [a, await startServer(KV, ["--host", "127.0.0.3", "--port", String(a.port), "--workers", "1", "--driver", "epoll"])];
  PORT = a.port;
  LIST = `127.0.0.2:${PORT},127.0.0.3:${PORT}`;
  if (missing === null) dns = await startDnsServer({ "kv.cli.test": ["127.0.0.2", "127.0.0.3"] });
}, 20000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop(5000)));
  await dns?.stop();
});

describe("ringrpc commands and targets", () => {
  test("a list of addresses: list, call and health work against it", async () => {
    const list = await ringrpc(["list", LIST]);
    expect([list.code, list.stderr]).toEqual([0, ""]);
    expect(list.stdout.split("\n")).toContain("kv.v1.KeyValue");
    const put = await ringrpc(["call", `static:///${LIST}`, "kv.v1.KeyValue/put", '{"key":"t","value":"aGk="}']);
    expect([put.code, put.stderr, put.stdout]).toEqual([0, "", '{"version":1}\n']);
    const health = await ringrpc(["health", LIST]);
    expect([health.code, health.stdout]).toEqual([0, "SERVING\n"]);
  });

  test.skipIf(missing !== null)(skipTitle("a DNS name: list, call and health resolve it through the given DNS server", missing), async () => {
    const target = `dns://${dns!.address}/kv.cli.test:${PORT}`;
    const list = await ringrpc(["list", target, "kv.v1.KeyValue"]);
    expect([list.code, list.stderr]).toEqual([0, ""]);
    expect(list.stdout).toContain("kv.v1.KeyValue/get unary\n");
    const get = await ringrpc(["call", target, "kv.v1.KeyValue/get", '{"key":"absent"}']);
    expect(get.code).toBe(5);
    expect(get.stderr).toContain("ringrpc call: kv.v1.KeyNotFound {\"key\":\"absent\"}");
    const health = await ringrpc(["health", target]);
    expect([health.code, health.stdout]).toEqual([0, "SERVING\n"]);
    const unknown = await ringrpc(["health", `dns://${dns!.address}/no-such.cli.test:${PORT}`]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toStartWith(`UNAVAILABLE: cannot resolve dns://${dns!.address}/no-such.cli.test:${PORT}: DNS server ${dns!.address}: `);
    const call = await ringrpc(["call", `dns://${dns!.address}/no-such.cli.test:${PORT}`, "kv.v1.KeyValue/get", '{"key":"a"}', "--idl", join(ROOT, "examples/kv/kv.ridl")]);
    expect(call.code).toBe(14);
    expect(call.stderr).toStartWith(`ringrpc call: UNAVAILABLE (14): cannot resolve dns://${dns!.address}/no-such.cli.test:${PORT}`);
  });

  test("a malformed target is a usage error naming the forms", async () => {
    for (const [target, message] of [
      ["dns:///kv.internal", 'ringrpc health: target "dns:///kv.internal": the name needs a port (dns:///kv.internal:7100)'],
      ["a:1,b", 'ringrpc list: target "a:1,b": "b" has no port'],
      ["7100", 'ringrpc call: "7100" is not HOST:PORT (e.g. 127.0.0.1:7100; or HOST:PORT, HOST:PORT,HOST:PORT,... or dns:///NAME:PORT)'],
    ] as const) {
      const cmd = message.split(":")[0]!.split(" ")[1]!;
      const r = await ringrpc([cmd, target, ...(cmd === "call" ? ["kv.v1.KeyValue/get"] : [])]);
      expect(r.code).toBe(2);
      expect(r.stderr.split("\n").length).toBe(2);
      expect(r.stderr).toStartWith(message);
    }
  });
});
