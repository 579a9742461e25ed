/**
 * Client-side health checking of one connection (docs/RPC.md,
 * "Health-aware balancing"): a `ringrpc.health.v1.Health/watch` stream on
 * that very connection (health is per server worker, and the connection
 * reaches one worker), whose messages say whether the connection may take
 * new calls; and a one-shot `check` for probing an ejected address. The
 * wire form is PROTOCOL.md section 12; the two method descriptors are
 * written here by hand because src/rpc/ cannot import the generated
 * services (src/services/ is above it), and test/rpc/health-watch.test.ts
 * holds them byte for byte to the generated codec. A server without the
 * health service (UNIMPLEMENTED) counts as serving. Owns the stream and
 * its reading, not what the pool does with the answer.
 */
import type { MsgReader } from "../codec/reader.ts";
import type { MsgWriter } from "../codec/writer.ts";
import { ClientCallState } from "./client-call.ts";
import type { ClientConnection } from "./client-connection.ts";
import type { MessageType, MethodDescriptor } from "./descriptor.ts";
import { isRpcErrorLike, RpcError, Status } from "./status.ts";

interface HealthRequest {
  service: string;
}
interface HealthReply {
  status: number;
}

/** ServingStatus.SERVING of health.ridl. */
const SERVING = 1;

const requestType: MessageType<HealthRequest> = {
  typeName: "ringrpc.health.v1.HealthCheckRequest",
  encode(w: MsgWriter, v: HealthRequest): void {
    w.mapHeader(1);
    w.int(1);
    w.str(v.service);
  },
  decode(r: MsgReader): HealthRequest {
    let service = "";
    for (let n = r.mapHeader(); n > 0; n--) {
      if (r.int() === 1) service = r.str();
      else r.skip();
    }
    return { service };
  },
  validate: () => null,
};

const replyType: MessageType<HealthReply> = {
  typeName: "ringrpc.health.v1.HealthCheckReply",
  encode(w: MsgWriter, v: HealthReply): void {
    w.mapHeader(1);
    w.int(1);
    w.int(v.status);
  },
  /** A reply without a status reads as UNKNOWN (0): not serving. */
  decode(r: MsgReader): HealthReply {
    let status = 0;
    for (let n = r.mapHeader(); n > 0; n--) {
      if (r.int() === 1) status = r.int();
      else r.skip();
    }
    return { status };
  },
  validate: () => null,
};

function method(name: string, kind: "unary" | "server_stream"): MethodDescriptor<HealthRequest, HealthReply> {
  return {
    service: "ringrpc.health.v1.Health",
    name,
    path: `ringrpc.health.v1.Health/${name}`,
    kind,
    input: requestType,
    output: replyType,
    idempotent: kind === "unary",
    deadlineMs: undefined,
    errors: [],
  };
}

export const HEALTH_CHECK = method("check", "unary");
export const HEALTH_WATCH = method("watch", "server_stream");

/** Credit for the watch stream: statuses are few and read at once. */
const WATCH_WINDOW = 4;

/**
 * Watches one connection's health. `first` settles with the first answer
 * (true: SERVING, or no health service); `onChange` gets every later
 * answer. A stream that ends (the server drained) or fails after the first
 * answer reports false, except when the connection itself is gone (its end
 * is reported elsewhere).
 */
export class HealthWatch {
  private readonly call: ClientCallState;
  readonly first: Promise<boolean>;
  private settleFirst: ((serving: boolean) => void) | null;
  private cancelled: boolean;

  constructor(
    conn: ClientConnection,
    service: string,
    private readonly onChange: (serving: boolean) => void,
  ) {
    this.settleFirst = null;
    this.cancelled = false;
    this.first = new Promise<boolean>((resolve) => (this.settleFirst = resolve));
    this.call = new ClientCallState(HEALTH_WATCH as MethodDescriptor, {}, WATCH_WINDOW);
    conn.start(this.call, { service });
    void this.read();
  }

  /** Stops watching (CANCEL to the server). */
  cancel(): void {
    this.cancelled = true;
    this.call.cancel(new RpcError(Status.CANCELLED, "health watch stopped by the channel"));
  }

  private report(serving: boolean): void {
    const f = this.settleFirst;
    if (f !== null) {
      this.settleFirst = null;
      f(serving);
    } else this.onChange(serving);
  }

  private async read(): Promise<void> {
    try {
      for await (const reply of this.call.inbound as AsyncIterable<HealthReply>) this.report(reply.status === SERVING);
      this.report(false);
    } catch (e) {
      if (this.cancelled) return this.settleFirst?.(false);
      if (isRpcErrorLike(e) && e.status === Status.UNIMPLEMENTED) return this.report(true);
      // The connection is gone (its end is handled by its owner) or the server failed the stream: not serving.
      this.report(false);
    }
  }
}

/** Runs `check` for `service` on `conn`: true when SERVING or the server has no health service. */
export async function checkHealth(conn: ClientConnection, service: string, timeoutMs: number): Promise<boolean> {
  const call = new ClientCallState(HEALTH_CHECK as MethodDescriptor, { timeoutMs }, 1);
  conn.start(call, { service });
  try {
    return ((await call.promise) as HealthReply).status === SERVING;
  } catch (e) {
    return isRpcErrorLike(e) && e.status === Status.UNIMPLEMENTED;
  }
}
