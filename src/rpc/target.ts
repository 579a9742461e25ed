/**
 * The resolver for a channel target string (docs/RPC.md, "Targets and
 * discovery"): `dns:///NAME:PORT`, `dns://DNS-SERVER[:PORT]/NAME:PORT`,
 * `static:///HOST:PORT[,HOST:PORT...]`, or the list without a scheme.
 * Owns the grammar and its error messages; resolving is the resolvers' job.
 */
import { DnsResolver, type DnsResolverOptions } from "./dns-resolver.ts";
import { checkPort, type Endpoint, type Resolver, StaticResolver, TargetError } from "./resolver.ts";

const TARGET_FORMS = "dns:///NAME:PORT, dns://DNS-SERVER[:PORT]/NAME:PORT, static:///HOST:PORT[,HOST:PORT...] or HOST:PORT[,HOST:PORT...]";

/**
 * The resolver for a target string:
 * - `dns:///kv.internal:7100`: A and AAAA records of the name, re-resolved
 *   (dns-resolver.ts); `dns://127.0.0.1:5353/kv.internal:7100` asks that DNS
 *   server instead of the system's.
 * - `static:///10.0.0.1:7100,10.0.0.2:7100`, or the list without the scheme,
 *   or one `HOST:PORT` (`[::1]:7100` for IPv6): fixed addresses.
 * Throws TargetError naming what is wrong and the forms it accepts.
 */
export function resolverFor(target: string, dns: DnsResolverOptions = {}): Resolver {
  const text = target.trim();
  const m = /^(dns|static):(?!\d+(?:,|$))(.*)$/i.exec(text);
  if (m === null) {
    const other = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
    if (other !== null) throw new TargetError(`target "${target}": unknown scheme "${other[1]}:" (use ${TARGET_FORMS})`);
    return new StaticResolver(parseList(target, text));
  }
  const rest = m[2]!;
  if (m[1]!.toLowerCase() === "static") return new StaticResolver(parseList(target, rest.startsWith("///") ? rest.slice(3) : rest));
  // dns:///NAME:PORT (the system's DNS servers) or dns://SERVER[:PORT]/NAME:PORT
  const d = /^\/\/([^/]*)\/([^/]+)$/.exec(rest);
  if (d === null) throw new TargetError(`target "${target}": write dns:///NAME:PORT (three slashes) or dns://DNS-SERVER[:PORT]/NAME:PORT`);
  const authority = d[1]!;
  const name = splitHostPort(d[2]!, target);
  if (name.port === null) throw new TargetError(`target "${target}": the name needs a port (dns:///${name.host}:7100)`);
  let server: string | null = null;
  if (authority !== "") {
    const s = splitHostPort(authority, target);
    if (!isIpLiteral(s.host)) throw new TargetError(`target "${target}": the DNS server "${authority}" must be an IP address, optionally with a port (127.0.0.1:5353)`);
    server = s.host.includes(":") ? `[${s.host}]:${s.port ?? 53}` : `${s.host}:${s.port ?? 53}`;
  }
  return new DnsResolver(name.host, name.port, server, dns);
}

function parseList(target: string, list: string): Endpoint[] {
  const parts = list.split(",").map((p) => p.trim());
  if (parts.some((p) => p === "")) throw new TargetError(`target "${target}": an empty address in the list (use ${TARGET_FORMS})`);
  return parts.map((p) => {
    const hp = splitHostPort(p, target);
    if (hp.port === null) throw new TargetError(`target "${target}": "${p}" has no port (use ${TARGET_FORMS})`);
    return { host: hp.host, port: hp.port };
  });
}

/** "host:port", "[v6]:port", "host" (port null). */
function splitHostPort(text: string, target: string): { host: string; port: number | null } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d*))?$/.exec(text);
  if (m === null || m[3] === "") throw new TargetError(`target "${target}": "${text}" is not HOST:PORT (use ${TARGET_FORMS}; an IPv6 address goes in brackets: [::1]:7100)`);
  const host = m[1] ?? m[2]!;
  if (m[3] === undefined) return { host, port: null };
  const port = Number(m[3]);
  checkPort(port, text, target);
  return { host, port };
}

function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || (host.includes(":") && /^[0-9a-f:.]+$/i.test(host));
}

