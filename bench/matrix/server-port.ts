/**
 * Ports for benchmarked servers: a free port on 127.0.0.1 to start a server
 * on (tests use it too), and the port a server reports in its ready line.
 * Nothing else.
 */
import { READY_LINE } from "../echo/contenders.ts";

/**
 * A TCP port nothing is bound to on 127.0.0.1 right now: the kernel's pick
 * for port 0 (which skips ports held by any socket, TIME_WAIT included),
 * released at once for the caller's server to take.
 */
export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

export function portOf(readyLine: string): number {
  return Number(READY_LINE.exec(readyLine)?.[1]);
}
