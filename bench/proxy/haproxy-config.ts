/**
 * The HAProxy configuration ringrpc is tested and measured behind (TCP
 * mode: HAProxy forwards bytes and never parses ringrpc frames), rendered
 * from a few parameters: test/deploy/haproxy.test.ts, bench/proxy/hop.ts
 * and docs/DEPLOY.md (whose copy the test compares with this output) all
 * use it. What each line is for is said in DEPLOY.md, "HAProxy in front".
 */

export interface HaproxyBackend {
  name: string;
  host: string;
  port: number;
}

export interface HaproxyOptions {
  /** Plain frontend (127.0.0.1:port). */
  port: number;
  /** TLS frontend (TLS ends here; the backends stay plain): port and a PEM file holding the certificate chain, then its key. */
  tls?: { port: number; pem: string };
  backends: HaproxyBackend[];
  /** "tcp": a connect check; otherwise the path of a script HAProxy runs per check (docs/DEPLOY.md: it runs `ringrpc health`). */
  check: "tcp" | { script: string };
  /** Milliseconds between checks of one server. */
  checkIntervalMs: number;
  /** The admin socket the test reads server states from (`show stat`); omitted: none. */
  statsSocket?: string;
  /** Pin HAProxy's one thread to this CPU; omitted: not pinned. */
  cpu?: number;
}

export function haproxyConfig(o: HaproxyOptions): string {
  const global = ["global", "  nbthread 1"];
  if (o.cpu !== undefined) global.push(`  cpu-map 1/1 ${o.cpu}`);
  if (o.statsSocket !== undefined) global.push(`  stats socket ${o.statsSocket} mode 600 level admin`);
  if (o.check !== "tcp") global.push("  external-check", "  insecure-fork-wanted");
  const lines = [
    ...global,
    "",
    "defaults",
    "  mode tcp",
    "  timeout connect 1s",
    "  timeout client 1h",
    "  timeout server 1h",
    "  retries 3",
    "  option redispatch 1",
    "",
    "frontend ringrpc",
    `  bind 127.0.0.1:${o.port}`,
    "  default_backend kv",
  ];
  if (o.tls !== undefined) lines.push("", "frontend ringrpc_tls", `  bind 127.0.0.1:${o.tls.port} ssl crt ${o.tls.pem}`, "  default_backend kv");
  lines.push("", "backend kv", "  balance leastconn");
  if (o.check !== "tcp") lines.push("  option external-check", `  external-check command ${o.check.script}`);
  for (const b of o.backends) lines.push(`  server ${b.name} ${b.host}:${b.port} check inter ${o.checkIntervalMs} fall 1 rise 2`);
  return `${lines.join("\n")}\n`;
}

/** The script HAProxy's external check runs: `ringrpc health` on the server it checks (HAProxy passes its address and port as $3 and $4). */
export function healthCheckScript(ringrpc: string[]): string {
  return `#!/bin/sh\n# HAProxy runs this per check with: <proxy addr> <proxy port> <server addr> <server port>\nexec ${ringrpc.join(" ")} health "$3:$4" --timeout 1s >/dev/null 2>&1\n`;
}
