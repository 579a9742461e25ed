/**
 * Where a channel's addresses come from (docs/RPC.md, "Targets and
 * discovery"): the `Resolver` interface a channel listens to and the static
 * resolver for a fixed list. A resolver only says which addresses exist
 * now; which of them get calls is the balancer's business (balancer.ts).
 * Target strings are parsed in target.ts, DNS names resolved in
 * dns-resolver.ts.
 */
export interface Endpoint {
  host: string;
  port: number;
}

/** What a resolver tells the channel it serves. */
export interface ResolverListener {
  /** The complete list of addresses now; it replaces the previous one. */
  addresses(list: readonly Endpoint[]): void;
  /** A resolution failed; the channel keeps the addresses it had and says `err.message` when it has none. */
  error(err: Error): void;
}

/**
 * A source of addresses. The channel calls `start` once, before its first
 * call, and `close` when it closes; `refresh` when a connection to one of
 * the addresses failed: resolve again soon (a resolver may rate-limit it),
 * and return true when an answer (addresses or error) will follow, so calls
 * with no ready address wait for it instead of failing at once; false when
 * nothing new will come (a fixed list). Implement it to plug in a registry
 * (docs/RPC.md).
 */
export interface Resolver {
  /** What is resolved, for messages: `dns:///kv.internal:7100`. */
  readonly description: string;
  start(listener: ResolverListener): void;
  refresh(): boolean;
  close(): void;
}

/** A fixed list of addresses: reported once, never changes. */
export class StaticResolver implements Resolver {
  readonly description: string;
  private readonly list: readonly Endpoint[];

  constructor(list: readonly Endpoint[]) {
    if (list.length === 0) throw new TargetError("a static target needs at least one HOST:PORT");
    for (const e of list) checkPort(e.port, `${e.host}:${e.port}`);
    this.list = list.map((e) => ({ host: e.host, port: e.port }));
    this.description = this.list.map(formatEndpoint).join(",");
  }

  start(listener: ResolverListener): void {
    listener.addresses(this.list);
  }

  refresh(): boolean {
    return false;
  }

  close(): void {}
}

/** A target string the channel cannot use; `code` is "INVALID_TARGET". */
export class TargetError extends TypeError {
  override name = "TargetError";
  readonly code = "INVALID_TARGET";
}

export function checkPort(port: number, what: string, target?: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TargetError(`${target === undefined ? "" : `target "${target}": `}port of "${what}" must be 1-65535`);
}

export function formatEndpoint(e: Endpoint): string {
  return e.host.includes(":") ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}
