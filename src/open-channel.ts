/**
 * openChannel(): a client in one call. It creates a runtime for the calling
 * thread (createRuntime: the driver is chosen as for a server) and a Channel
 * on it, and the Channel it returns owns that runtime: its close() closes the
 * channel's connections and then the runtime. For a script or a process with
 * one client; code that opens many channels shares one runtime instead
 * (createRuntime() + createChannel(rt, ...), then rt.close()). Owns only that
 * pairing: the channel is src/rpc/client.ts, the runtime src/runtime/.
 */
import type { CallInvoker, CallOptions, MethodDescriptor } from "./rpc/descriptor.ts";
import { type Channel, type ChannelOptions, type ChannelStats, createChannel, type Endpoint } from "./rpc/client.ts";
import type { Resolver } from "./rpc/resolver.ts";
import { createRuntime, type DriverRequest } from "./runtime/select.ts";
import type { Runtime } from "./runtime/types.ts";

/** Where to connect: one `host` and `port`, `endpoints`, or a `target` (`dns:///NAME:PORT`, a list, a Resolver). */
export type ChannelTarget = Endpoint | { endpoints: Endpoint[] } | { target: string | Resolver };

/** The channel's options, where it connects, and the driver of its runtime (default: as RINGRPC_DRIVER, else auto). */
export type OpenChannelOptions = Omit<ChannelOptions, "endpoints" | "target"> & ChannelTarget & { driver?: DriverRequest };

/** A Channel that owns its runtime: close() closes both. */
export interface OwnedChannel extends Channel {
  /** The runtime openChannel() created; closed by close(). */
  readonly runtime: Runtime;
}

/**
 * Creates a runtime and a channel on it. Rejects when no driver can run
 * (DriverUnavailable) or the options are invalid; nothing is left open then.
 */
export async function openChannel(opts: OpenChannelOptions): Promise<OwnedChannel> {
  const { driver, host, port, endpoints, target, ...channelOptions } = opts as AnyTarget;
  const where = target !== undefined ? { target } : { endpoints: endpoints ?? [{ host: host!, port: port! }] };
  const { runtime } = await createRuntime(driver === undefined ? {} : { driver });
  try {
    return new RuntimeOwningChannel(runtime, createChannel(runtime, { ...channelOptions, ...where }));
  } catch (e) {
    await runtime.close();
    throw e;
  }
}

/** The options with either target's fields optional, to take them apart. */
type AnyTarget = Omit<ChannelOptions, "endpoints" | "target"> & Partial<Endpoint> & { endpoints?: Endpoint[]; target?: string | Resolver; driver?: DriverRequest };

class RuntimeOwningChannel implements OwnedChannel, CallInvoker {
  readonly runtime: Runtime;
  private readonly channel: Channel;
  private closing: Promise<void> | null = null;

  constructor(runtime: Runtime, channel: Channel) {
    this.runtime = runtime;
    this.channel = channel;
  }

  unary<I, O>(m: MethodDescriptor<I, O>, req: I, opts?: CallOptions): Promise<O> {
    return this.channel.unary(m, req, opts);
  }

  serverStream<I, O>(m: MethodDescriptor<I, O>, req: I, opts?: CallOptions): AsyncIterable<O> {
    return this.channel.serverStream(m, req, opts);
  }

  clientStream<I, O>(m: MethodDescriptor<I, O>, reqs: AsyncIterable<I> | Iterable<I>, opts?: CallOptions): Promise<O> {
    return this.channel.clientStream(m, reqs, opts);
  }

  bidi<I, O>(m: MethodDescriptor<I, O>, reqs: AsyncIterable<I> | Iterable<I>, opts?: CallOptions): AsyncIterable<O> {
    return this.channel.bidi(m, reqs, opts);
  }

  stats(): ChannelStats {
    return this.channel.stats();
  }

  /** Closes the channel (open calls fail with UNAVAILABLE), then the runtime. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.channel.close().finally(() => this.runtime.close());
    return this.closing;
  }
}
