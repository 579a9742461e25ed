/**
 * One server as the operating commands (`ringrpc list`, `describe`, `call`,
 * `health`) see it: the target (HOST:PORT, a list of them, or a DNS name,
 * exactly as a channel takes it: src/rpc/target.ts), a runtime and a
 * channel to it, and
 * the options every call of a command shares (deadline, metadata). The
 * runtime is the epoll driver unless RINGRPC_DRIVER names one: a one-shot
 * client needs no ring, and skips the ring's wake-up self-test (~80 ms);
 * with TLS (the --tls flags) it is always epoll.
 * Owns the connection's life; knows nothing of schemas.
 */
import { type Channel, type ChannelOptions, createChannel } from "../rpc/client.ts";
import type { CallOptions, Metadata } from "../rpc/descriptor.ts";
import { TargetError } from "../rpc/resolver.ts";
import { resolverFor } from "../rpc/target.ts";
import { driverFromEnv, createRuntime } from "../runtime/select.ts";
import type { Runtime, TlsClientOptions } from "../runtime/types.ts";
import { UsageError } from "./args.ts";

/** What the channel is given: one address, or a target string with a scheme or a list. */
export type Target = { endpoints: { host: string; port: number }[] } | { target: string };

/** The forms a TARGET takes, for usage lines. */
export const TARGET_HELP = "HOST:PORT, HOST:PORT,HOST:PORT,... or dns:///NAME:PORT";

/**
 * "HOST:PORT", "[::1]:PORT", ":PORT" (127.0.0.1), or anything a channel
 * takes as a target: "A:P,B:P", "static:///A:P,B:P", "dns:///NAME:PORT",
 * "dns://DNS-SERVER:PORT/NAME:PORT".
 */
export function parseTarget(text: string | undefined): Target {
  if (text === undefined) throw new UsageError(`give the server as ${TARGET_HELP}, e.g. 127.0.0.1:7100`);
  const m = /^(?:\[([^\]]+)\]|([^:,/]*)):(\d+)$/.exec(text);
  if (m !== null) {
    const port = Number(m[3]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`"${text}" is not HOST:PORT (e.g. 127.0.0.1:7100)`);
    return { endpoints: [{ host: m[1] ?? (m[2] || "127.0.0.1"), port }] };
  }
  if (!text.includes(",") && !/^(dns|static):/i.test(text)) throw new UsageError(`"${text}" is not HOST:PORT (e.g. 127.0.0.1:7100; or ${TARGET_HELP})`);
  try {
    resolverFor(text); // checks the grammar; nothing is resolved yet
  } catch (e) {
    if (e instanceof TargetError) throw new UsageError(e.message);
    throw e;
  }
  return { target: text };
}

/** "500ms", "2s", "1.5s" or a plain number of milliseconds, for `--<flag>`. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text);
  const ms = m === null ? Number.NaN : Number(m[1]) * (m[2] === "s" ? 1000 : 1);
  if (!Number.isFinite(ms) || ms <= 0) throw new UsageError(`--${flag} must be a duration such as 500ms or 2s (got "${text}")`);
  return Math.ceil(ms);
}

/** `-H key:value` headers as request metadata; keys are lower-cased and checked as the protocol requires. */
export function parseHeaders(headers: readonly string[]): Metadata {
  const md: Metadata = {};
  for (const h of headers) {
    const colon = h.indexOf(":");
    const key = colon < 0 ? "" : h.slice(0, colon).trim().toLowerCase();
    if (!/^[a-z0-9._-]{1,255}$/.test(key)) throw new UsageError(`-H "${h}" is not key:value with a key of [a-z0-9._-]`);
    md[key] = h.slice(colon + 1).trimStart();
  }
  return md;
}

export class Remote {
  private constructor(
    readonly rt: Runtime,
    readonly channel: Channel,
    private readonly timeoutMs: number | undefined,
    private readonly metadata: Metadata | undefined,
  ) {}

  /** Opens a runtime and a (lazily connecting) channel to the target. */
  static async open(target: Target, opts: { timeoutMs?: number | undefined; metadata?: Metadata | undefined; tls?: TlsClientOptions | null } = {}): Promise<Remote> {
    const env = driverFromEnv();
    const tls = opts.tls ?? null;
    if (tls !== null && env === "uring") throw new UsageError("the --tls flags need the epoll driver (io_uring carries no TLS here): unset RINGRPC_DRIVER=uring");
    const { runtime } = await createRuntime({ driver: env === "auto" ? "epoll" : env });
    const connectTimeoutMs = Math.min(opts.timeoutMs ?? 5000, 5000);
    const where: ChannelOptions = "target" in target ? { target: target.target, resolve: { timeoutMs: Math.min(connectTimeoutMs, 2000) } } : { endpoints: target.endpoints };
    const channel = createChannel(runtime, { ...where, connectTimeoutMs, ...(tls === null ? {} : { tls }) });
    return new Remote(runtime, channel, opts.timeoutMs, opts.metadata);
  }

  /** The options of one call: the command's --timeout (else the method's IDL default) and its -H metadata. */
  callOptions(): CallOptions {
    const o: CallOptions = {};
    if (this.timeoutMs !== undefined) o.timeoutMs = this.timeoutMs;
    if (this.metadata !== undefined) o.metadata = this.metadata;
    return o;
  }

  async close(): Promise<void> {
    await this.channel.close();
    await this.rt.close();
  }
}
