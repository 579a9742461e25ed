/**
 * Channel targets (src/rpc/target.ts): each accepted form gives the
 * resolver it names, with the addresses or the DNS name, port and server
 * it carries; each malformed one is a TargetError (code INVALID_TARGET)
 * whose message says what is wrong and which forms are accepted.
 */
import { describe, expect, test } from "bun:test";
import { createChannel } from "../../src/rpc/client.ts";
import { DnsResolver } from "../../src/rpc/dns-resolver.ts";
import { type Endpoint, type Resolver, StaticResolver, TargetError } from "../../src/rpc/resolver.ts";
import { resolverFor } from "../../src/rpc/target.ts";
import { createEpollRuntime } from "../../src/runtime/epoll/runtime.ts";

/** The addresses a static resolver reports. */
function listed(r: Resolver): Endpoint[] {
  let got: readonly Endpoint[] = [];
  r.start({
    addresses: (l) => (got = l),
    error: (e) => {
      throw e;
    },
  });
  return [...got];
}

function rejected(target: string): TargetError {
  try {
    resolverFor(target);
  } catch (e) {
    return e as TargetError;
  }
  throw new Error(`expected "${target}" to be rejected`);
}

describe("channel targets", () => {
  test("HOST:PORT, lists, [v6]:PORT and static:/// give a static resolver with those addresses", () => {
    for (const [target, want] of [
      ["127.0.0.1:7100", [{ host: "127.0.0.1", port: 7100 }]],
      ["kv.local:7100", [{ host: "kv.local", port: 7100 }]],
      ["10.0.0.1:1, 10.0.0.2:2", [{ host: "10.0.0.1", port: 1 }, { host: "10.0.0.2", port: 2 }]],
      ["[::1]:7100,127.0.0.2:7100", [{ host: "::1", port: 7100 }, { host: "127.0.0.2", port: 7100 }]],
      ["static:///127.0.0.2:7100,127.0.0.3:7100", [{ host: "127.0.0.2", port: 7100 }, { host: "127.0.0.3", port: 7100 }]],
      ["static:127.0.0.2:7100", [{ host: "127.0.0.2", port: 7100 }]],
      // A host named like a scheme is still a host.
      ["dns:53", [{ host: "dns", port: 53 }]],
    ] as const) {
      const r = resolverFor(target);
      expect(r).toBeInstanceOf(StaticResolver);
      expect(listed(r)).toEqual(want.map((e) => ({ ...e })));
      expect(r.refresh()).toBe(false);
    }
    expect(resolverFor("[::1]:7100,127.0.0.2:7100").description).toBe("[::1]:7100,127.0.0.2:7100");
  });

  test("dns:///NAME:PORT asks the system's servers; dns://SERVER[:PORT]/NAME:PORT asks that one (port 53 by default)", () => {
    const sys = resolverFor("dns:///kv.internal:7100") as DnsResolver;
    expect(sys).toBeInstanceOf(DnsResolver);
    expect([sys.name, sys.port, sys.server, sys.description]).toEqual(["kv.internal", 7100, null, "dns:///kv.internal:7100"]);
    const own = resolverFor("dns://127.0.0.1:5353/kv.internal:7100") as DnsResolver;
    expect([own.name, own.port, own.server, own.description]).toEqual(["kv.internal", 7100, "127.0.0.1:5353", "dns://127.0.0.1:5353/kv.internal:7100"]);
    expect((resolverFor("dns://10.0.0.53/kv:1") as DnsResolver).server).toBe("10.0.0.53:53");
    expect((resolverFor("dns://[::1]:5353/kv:1") as DnsResolver).server).toBe("[::1]:5353");
    for (const r of [sys, own]) r.close();
  });

  test("a malformed target is a TargetError naming the problem and the accepted forms", () => {
    const forms = "dns:///NAME:PORT, dns://DNS-SERVER[:PORT]/NAME:PORT, static:///HOST:PORT[,HOST:PORT...] or HOST:PORT[,HOST:PORT...]";
    for (const [target, message] of [
      ["7100", `target "7100": "7100" has no port (use ${forms})`],
      ["kv:0", `target "kv:0": port of "kv:0" must be 1-65535`],
      ["a:1,,b:2", `target "a:1,,b:2": an empty address in the list (use ${forms})`],
      ["xds:///kv", `target "xds:///kv": unknown scheme "xds:" (use ${forms})`],
      ["dns:kv:7100", `target "dns:kv:7100": write dns:///NAME:PORT (three slashes) or dns://DNS-SERVER[:PORT]/NAME:PORT`],
      ["dns:///kv.internal", `target "dns:///kv.internal": the name needs a port (dns:///kv.internal:7100)`],
      ["dns://ns.example/kv:1", `target "dns://ns.example/kv:1": the DNS server "ns.example" must be an IP address, optionally with a port (127.0.0.1:5353)`],
      ["::1:7100", `target "::1:7100": "::1:7100" is not HOST:PORT (use ${forms}; an IPv6 address goes in brackets: [::1]:7100)`],
    ] as const) {
      const e = rejected(target);
      expect(e).toBeInstanceOf(TargetError);
      expect(e.code).toBe("INVALID_TARGET");
      expect(e.message).toBe(message);
    }
  });

  test("createChannel takes a target or endpoints, never both nor neither", async () => {
    const rt = createEpollRuntime();
    try {
      expect(() => createChannel(rt, {})).toThrow('createChannel: give opts.target (e.g. "dns:///kv.internal:7100") or opts.endpoints');
      expect(() => createChannel(rt, { target: "a:1", endpoints: [{ host: "a", port: 1 }] })).toThrow("createChannel: give opts.target or opts.endpoints, not both");
      expect(() => createChannel(rt, { target: "dns:///kv" })).toThrow("the name needs a port");
      expect(() => createChannel(rt, { endpoints: [] })).toThrow("createChannel: opts.endpoints is empty");
      await createChannel(rt, { target: "127.0.0.1:1,127.0.0.2:1" }).close();
    } finally {
      await rt.close();
    }
  });
});
