/**
 * A hand-driven server for client tests: it accepts connections on
 * 127.0.0.1, says HELLO on each, waits for that connection's first REQUEST
 * and then does what the test says with it (drop the connection, answer
 * GOAWAY, ...), each connection on its own. Records every REQUEST's path.
 */
import type { Listener, Runtime } from "../../../src/runtime/types.ts";
import { frameBytes, HELLO, RawPeer } from "./raw-peer.ts";

export interface RawServer {
  readonly port: number;
  /** The path of each REQUEST read, in order. */
  readonly requests: string[];
  stop(): Promise<void>;
}

/** `onRequest` gets the peer and the REQUEST frame (as an array) and decides what follows. */
export async function startRawServer(rt: Runtime, onRequest: (peer: RawPeer, request: unknown[]) => Promise<void>): Promise<RawServer> {
  const listener: Listener = await rt.listen({ host: "127.0.0.1", port: 0, reusePort: false });
  const requests: string[] = [];
  const handlers: Promise<void>[] = [];
  const acceptLoop = (async () => {
    for (;;) {
      const peer = await RawPeer.accept(rt, listener).catch((e: { name?: string }) => (e.name === "AbortError" ? null : Promise.reject(e)));
      if (peer === null) return;
      handlers.push(
        (async () => {
          await peer.send(frameBytes(HELLO));
          const req = await peer.waitFrame(2, 500);
          if (req === null) return peer.close();
          requests.push(String(req[2]));
          await onRequest(peer, req);
        })(),
      );
    }
  })();
  return {
    port: listener.port,
    requests,
    async stop() {
      await listener.close();
      await acceptLoop;
      await Promise.all(handlers);
    },
  };
}

/** Drops the connection once it has read a REQUEST: the call may have run. */
export const dropAfterRequest = (peer: RawPeer): Promise<void> => peer.close();
