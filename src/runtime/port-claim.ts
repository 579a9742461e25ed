/**
 * One server per port: the start-up check launch() and serve() make on the
 * main thread before their Workers listen with SO_REUSEPORT. The kernel lets
 * any SO_REUSEPORT listener of the same user join a port, so without a check
 * a second server on a port silently shares it with the first and the two
 * split the connections. The check is a probe: a listener without
 * SO_REUSEPORT (Bun.listen, which sets SO_REUSEADDR, so sockets in TIME_WAIT
 * from an earlier run do not count), closed at once. It fails with EADDRINUSE
 * while any other socket listens on the port, SO_REUSEPORT or not, or holds
 * it like the supervised mode's reservation (port-reservation.ts).
 *
 * Race-free: between the probe and the first Worker's listen another server
 * could pass the same probe. So the probe and that first listen happen under
 * a start-up lock per port, an abstract unix socket `@ringrpc-start:<port>`
 * (bind fails with EADDRINUSE while another process holds the name; the
 * kernel drops the name when its holder exits, crashes included; it lives in
 * the network namespace, like the port). A second server that meets the lock
 * waits until the first releases it, then probes and finds the first's
 * listeners. The lock is keyed by port alone so that servers on overlapping
 * addresses (0.0.0.0 and 127.0.0.1) serialise too; servers on different
 * addresses of one port only wait for each other, then both start.
 *
 * Owns the lock and the probe, nothing else. Port 0 needs neither: the
 * kernel picks a port no socket holds.
 */
import type { TCPSocketListenOptions } from "bun";
import { PortInUse } from "./errors.ts";
import { listenErrorFromBun } from "./epoll/bun-error.ts";

/** Bun.listen accepts reusePort at run time; its type declarations lack it. */
type ListenWithReusePort = TCPSocketListenOptions<undefined> & { reusePort: boolean };

/** How long a server waits for another one starting on the same port (its first Worker's start-up). */
export const START_LOCK_WAIT_MS = 30_000;
const LOCK_POLL_MS = 10;

export interface PortClaim {
  /** Releases the start-up lock (once the server's own first listener is up, or it failed). Idempotent. */
  release(): void;
}

export interface ClaimOptions {
  /** Longest wait for the start-up lock (default START_LOCK_WAIT_MS). */
  waitMs?: number;
}

const NOTHING_HELD: PortClaim = { release() {} };

/** A listener's socket handlers for the lock and the probe: they take no connection. */
const refuse = { data() {}, open(s: { end(): void }) { s.end(); } };

/** The abstract unix socket name of the start-up lock of `port` (`@` stands for the leading NUL). */
export function startLockName(port: number): string {
  return `\0ringrpc-start:${port}`;
}

/**
 * Takes the start-up lock of `port` and checks that no other process holds
 * host:port. Rejects with PortInUse (EADDRINUSE) when one does, with an
 * IoError when the port cannot be bound at all (EACCES, EADDRNOTAVAIL, ...),
 * and with an Error saying so when another server held the lock for longer
 * than waitMs. The caller releases the claim once its first listener is up.
 */
export async function claimPort(host: string, port: number, opts: ClaimOptions = {}): Promise<PortClaim> {
  if (port === 0) return NOTHING_HELD;
  const lock = await takeStartLock(port, opts.waitMs ?? START_LOCK_WAIT_MS);
  try {
    probe(host, port);
  } catch (e) {
    lock.release();
    throw e;
  }
  return lock;
}

/** Throws PortInUse when a listener without SO_REUSEPORT cannot bind host:port. */
function probe(host: string, port: number): void {
  let listener;
  try {
    const options: ListenWithReusePort = { hostname: host, port, reusePort: false, socket: refuse };
    listener = Bun.listen<undefined>(options);
  } catch (e) {
    const error = listenErrorFromBun(e, `${host}:${port}`);
    throw error.code === "EADDRINUSE" ? new PortInUse(host, port) : error;
  }
  // Closed in the same JS turn: Bun's loop never runs, so it accepts nothing.
  listener.stop(true);
}

async function takeStartLock(port: number, waitMs: number): Promise<PortClaim> {
  const deadline = performance.now() + waitMs;
  for (;;) {
    let lock;
    try {
      lock = Bun.listen({ unix: startLockName(port), socket: refuse });
    } catch (e) {
      if (listenErrorFromBun(e, "").code !== "EADDRINUSE") return NOTHING_HELD; // no lock here: the probe alone still runs
      if (performance.now() >= deadline) {
        throw new Error(
          `another ringrpc server has been starting on port ${port} for ${(waitMs / 1000).toFixed(waitMs < 10_000 ? 1 : 0)} s ` +
            `(it holds the start-up lock @${startLockName(port).slice(1)}): wait until it serves or stop it, then start this one again`,
        );
      }
      await Bun.sleep(LOCK_POLL_MS);
      continue;
    }
    lock.unref();
    let held = true;
    return {
      release() {
        if (!held) return;
        held = false;
        lock.stop(true);
      },
    };
  }
}
