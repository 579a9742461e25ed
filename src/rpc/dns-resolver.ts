/**
 * DnsResolver: the addresses of `dns:///NAME:PORT`, from the name's A and
 * AAAA records (asked in parallel), resolved at the channel's first call,
 * again every `intervalMs`, and sooner when the channel reports a failed
 * connection (`refresh`, at most once per `minIntervalMs`). Queries go to
 * the DNS server of the target (`dns://127.0.0.1:5353/...`) or the system's,
 * through node:dns's Resolver (never the system's getaddrinfo, which would
 * skip a given server and cache). Owns the queries and their timer only;
 * what the channel does with the list is not its business.
 */
import { Resolver as NodeDnsResolver } from "node:dns/promises";
import type { Endpoint, Resolver, ResolverListener } from "./resolver.ts";

export interface DnsResolverOptions {
  /** Re-resolve this often (default 30000 ms). */
  intervalMs?: number;
  /** Re-resolve at most this often when connections fail (default 1000 ms); also the first pause after a failed resolution, doubled up to intervalMs. */
  minIntervalMs?: number;
  /** One query's timeout (default 2000 ms; one try). */
  timeoutMs?: number;
}

/** The answer codes that mean "no such records", not "the DNS server failed". */
const NO_RECORDS = new Set(["ENODATA", "ENOTFOUND", "NOTFOUND", "ENONAME"]);

export class DnsResolver implements Resolver {
  readonly description: string;
  private readonly dns: NodeDnsResolver;
  private readonly intervalMs: number;
  private readonly minIntervalMs: number;
  private readonly timeoutMs: number;
  private listener: ResolverListener | null;
  private timer: ReturnType<typeof setTimeout> | null;
  private timerAt: number;
  private running: boolean;
  private again: boolean;
  private lastStart: number;
  private failures: number;
  private closed: boolean;

  constructor(
    readonly name: string,
    readonly port: number,
    /** "IP:PORT" of the DNS server to ask, or null for the system's. */
    readonly server: string | null,
    opts: DnsResolverOptions = {},
  ) {
    this.description = `dns://${server ?? ""}/${name}:${port}`;
    this.intervalMs = positive(opts.intervalMs, 30_000, "intervalMs");
    this.minIntervalMs = positive(opts.minIntervalMs, 1000, "minIntervalMs");
    this.timeoutMs = positive(opts.timeoutMs, 2000, "timeoutMs");
    this.dns = new NodeDnsResolver({ timeout: this.timeoutMs, tries: 1 });
    if (server !== null) this.dns.setServers([server]);
    this.listener = null;
    this.timer = null;
    this.timerAt = 0;
    this.running = false;
    this.again = false;
    this.lastStart = 0;
    this.failures = 0;
    this.closed = false;
  }

  start(listener: ResolverListener): void {
    this.listener = listener;
    void this.run();
  }

  refresh(): boolean {
    if (this.closed || this.listener === null) return false;
    if (this.running) {
      this.again = true;
      return true;
    }
    const at = this.lastStart + this.minIntervalMs;
    if (at <= Date.now()) void this.run();
    else if (this.timer === null || this.timerAt > at) this.schedule(at - Date.now());
    return true;
  }

  close(): void {
    this.closed = true;
    this.listener = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.dns.cancel();
  }

  /** One resolution: A and AAAA at once; an answer with records in either family is a success. */
  private async run(): Promise<void> {
    if (this.closed) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.running = true;
    this.again = false;
    this.lastStart = Date.now();
    const [v4, v6] = await Promise.allSettled([this.dns.resolve4(this.name), this.dns.resolve6(this.name)]);
    this.running = false;
    const listener = this.listener;
    if (this.closed || listener === null) return;
    const list: Endpoint[] = [];
    if (v4.status === "fulfilled") for (const host of v4.value) list.push({ host, port: this.port });
    if (v6.status === "fulfilled") for (const host of v6.value) list.push({ host, port: this.port });
    if (list.length > 0) {
      this.failures = 0;
      listener.addresses(list);
      this.schedule(this.again ? this.minIntervalMs : this.intervalMs);
      return;
    }
    this.failures++;
    listener.error(new Error(this.failureText(v4, v6)));
    this.schedule(Math.min(this.intervalMs, this.minIntervalMs * 2 ** (this.failures - 1)));
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = Date.now() + ms;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, ms);
    // Resolution alone never keeps a process alive (open connections do).
    this.timer.unref?.();
  }

  /** Why neither family gave an address, in words a person can act on. */
  private failureText(v4: PromiseSettledResult<string[]>, v6: PromiseSettledResult<string[]>): string {
    const codes = [v4, v6].map((r) => (r.status === "rejected" ? String((r.reason as { code?: string }).code ?? (r.reason as Error).message) : "no records"));
    const where = this.server === null ? "the system's DNS servers" : `DNS server ${this.server}`;
    if (codes.every((c) => c === "no records" || NO_RECORDS.has(c)))
      return `cannot resolve ${this.description}: ${where} know no A or AAAA records for ${this.name} (${codes.join(", ")})`;
    const failed = codes.find((c) => c !== "no records" && !NO_RECORDS.has(c))!;
    const hint =
      failed === "ETIMEOUT" ? `no answer within ${this.timeoutMs} ms: is the server up and reachable?` : failed === "EREFUSED" ? "the server refused the query (does it serve this name?)" : failed === "ECONNREFUSED" ? "nothing listens there" : "the query failed";
    return `cannot resolve ${this.description}: ${where}: ${hint} (A: ${codes[0]}, AAAA: ${codes[1]})`;
  }
}

function positive(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`dns resolver option ${name} must be a positive number of ms (got ${v})`);
  return v;
}
