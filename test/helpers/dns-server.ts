/**
 * A real DNS server on loopback for the discovery tests: dnsmasq (Debian's
 * dnsmasq-base, installed by scripts/setup.sh) on 127.0.0.1 and a free UDP
 * port, answering only from a hosts file the test writes (`set`, applied
 * with SIGHUP and checked with a query before it returns). No upstream
 * servers, no system hosts file. `dnsmasqMissing()` is the skip reason
 * when the binary is not there. Always stop() it (by its pid).
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Resolver } from "node:dns/promises";
import { createSocket } from "node:dgram";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "../../bench/matrix/server-port.ts";

const CANDIDATES = ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"];

function dnsmasqPath(): string | null {
  return Bun.which("dnsmasq") ?? CANDIDATES.find((p) => existsSync(p)) ?? null;
}

/** Why the DNS tests cannot run here, or null when they can. */
export function dnsmasqMissing(): string | null {
  return dnsmasqPath() === null ? "dnsmasq not found: scripts/setup.sh installs dnsmasq-base with apt-get (as root); install it by hand otherwise" : null;
}

/** Name -> addresses (IPv4 or IPv6). */
export type Records = Record<string, string[]>;

export interface DnsServer {
  readonly port: number;
  /** "127.0.0.1:PORT", for `dns://127.0.0.1:PORT/NAME:PORT` targets. */
  readonly address: string;
  /** Replaces every record and waits until the server answers with them. */
  set(records: Records): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A port free for both UDP and TCP on 127.0.0.1, since dnsmasq binds both.
 * A UDP-only pick is not enough: after a test that opened many
 * connections, thousands of loopback ports sit in TCP TIME_WAIT, and
 * dnsmasq's TCP bind on one of them fails ("Address already in use"). So
 * the kernel picks a TCP port (it skips TIME_WAIT ports) and UDP is tried
 * on the same number.
 */
async function freeDnsPort(): Promise<number> {
  for (let tries = 0; tries < 20; tries++) {
    const port = freePort();
    const sock = createSocket("udp4");
    const bound = await new Promise<boolean>((resolve) => {
      sock.once("error", () => resolve(false));
      sock.bind(port, "127.0.0.1", () => resolve(true));
    });
    try {
      await new Promise<void>((resolve) => sock.close(() => resolve()));
    } catch {
      // A socket whose bind failed may already count as closed.
    }
    if (bound) return port;
  }
  throw new Error("no loopback port free for both TCP and UDP after 20 tries");
}

function hostsText(records: Records): string {
  const lines: string[] = ["127.0.0.1 ready.dns-helper.test"];
  for (const [name, addrs] of Object.entries(records)) for (const a of addrs) lines.push(`${a} ${name}`);
  return `${lines.join("\n")}\n`;
}

export async function startDnsServer(records: Records): Promise<DnsServer> {
  const bin = dnsmasqPath();
  if (bin === null) throw new Error(dnsmasqMissing()!);
  const dir = mkdtempSync(join(tmpdir(), "ringrpc-dns-"));
  // dnsmasq started as root reads its files as "nobody": the folder must be open to it.
  chmodSync(dir, 0o755);
  const hosts = join(dir, "hosts");
  writeFileSync(hosts, hostsText(records), { mode: 0o644 });
  let lastError = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeDnsPort();
    const proc: Subprocess<"ignore", "ignore", "pipe"> = Bun.spawn(
      [bin, "--keep-in-foreground", "--no-resolv", "--no-hosts", `--port=${port}`, "--listen-address=127.0.0.1", "--bind-interfaces", `--addn-hosts=${hosts}`, "--pid-file=", "--log-facility=-", "--cache-size=0"],
      { stdin: "ignore", stdout: "ignore", stderr: "pipe" },
    );
    let errText = "";
    void (async () => {
      for await (const chunk of proc.stderr) errText += new TextDecoder().decode(chunk);
    })();
    const query = new Resolver({ timeout: 200, tries: 1 });
    query.setServers([`127.0.0.1:${port}`]);
    const answers = async (name: string, want: string[]): Promise<boolean> => {
      const got = await Promise.all([query.resolve4(name).catch(() => [] as string[]), query.resolve6(name).catch(() => [] as string[])]);
      return got.flat().sort().join(",") === [...want].sort().join(",");
    };
    const deadline = Date.now() + 3000;
    let ready = false;
    while (!ready && Date.now() < deadline && proc.exitCode === null && !errText.includes("failed to")) {
      ready = await answers("ready.dns-helper.test", ["127.0.0.1"]);
      if (!ready) await Bun.sleep(20);
    }
    if (!ready) {
      proc.kill("SIGKILL");
      await proc.exited;
      lastError = errText.trim() || "no answer";
      continue;
    }
    const server: DnsServer = {
      port,
      address: `127.0.0.1:${port}`,
      async set(next: Records) {
        writeFileSync(hosts, hostsText(next), { mode: 0o644 });
        proc.kill("SIGHUP");
        const until = Date.now() + 3000;
        for (;;) {
          const ok = await Promise.all(Object.entries(next).map(([name, addrs]) => answers(name, addrs)));
          if (ok.every(Boolean)) return;
          if (Date.now() > until) throw new Error(`dnsmasq on ${port} did not pick up the new records within 3 s: ${errText}`);
          await Bun.sleep(10);
        }
      },
      async stop() {
        proc.kill("SIGTERM");
        const t = setTimeout(() => proc.kill("SIGKILL"), 2000);
        await proc.exited;
        clearTimeout(t);
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return server;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`dnsmasq did not start on loopback after 3 attempts: ${lastError}`);
}
