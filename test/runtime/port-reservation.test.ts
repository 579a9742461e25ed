/**
 * The supervised mode's port reservation (src/runtime/port-reservation.ts,
 * native rr_socket_bind): a bound socket that never listens holds a port
 * that SO_REUSEPORT listeners join and other listeners cannot take, and
 * takes no connection itself.
 */
import type { TCPSocketListenOptions } from "bun";
import { afterEach, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { reservePort, type PortReservation } from "../../src/runtime/port-reservation.ts";

const held: PortReservation[] = [];
const listeners: { stop(closeActive?: boolean): void }[] = [];
afterEach(() => {
  for (const r of held.splice(0)) r.release();
  for (const l of listeners.splice(0)) l.stop(true);
});

/** Connects with node:net (a client independent of the code under test): "connected" or the error code. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1", () => {
      s.destroy();
      resolve("connected");
    });
    s.on("error", (e: Error & { code?: string }) => resolve(e.code ?? e.message));
    setTimeout(() => { s.destroy(); resolve("timeout"); }, 2000);
  });
}

/** reusePort is accepted by Bun.listen at run time; its type declarations lack it. */
type ListenWithReusePort = TCPSocketListenOptions<undefined> & { reusePort: boolean };

function listen(port: number, reusePort: boolean) {
  const options: ListenWithReusePort = { hostname: "127.0.0.1", port, reusePort, socket: { data() {}, open(s) { s.end(); } } };
  const l = Bun.listen<undefined>(options);
  listeners.push(l);
  return l;
}

describe("reservePort", () => {
  test("port 0 gets a free port that takes no connection until a SO_REUSEPORT listener joins it", async () => {
    const r = reservePort("127.0.0.1", 0);
    held.push(r);
    expect(r.port).toBeGreaterThan(0);
    expect(await tryConnect(r.port)).toBe("ECONNREFUSED");
    listen(r.port, true);
    expect(await tryConnect(r.port)).toBe("connected");
  });

  test("a listener without SO_REUSEPORT cannot take a reserved port; after release it can", async () => {
    const r = reservePort("127.0.0.1", 0);
    held.push(r);
    expect(() => listen(r.port, false)).toThrow();
    r.release();
    r.release(); // a second release is a no-op
    listen(r.port, false);
    expect(await tryConnect(r.port)).toBe("connected");
  });

  test("a port a plain listener holds cannot be reserved: EADDRINUSE, in one line that says what to do", () => {
    const l = listen(0, false);
    expect(() => reservePort("127.0.0.1", l.port)).toThrow(
      `bind failed: EADDRINUSE (reserving 127.0.0.1:${l.port} for the supervised processes): another process holds this port: pick another port or stop that process`,
    );
  });

  test("a host that is not a numeric address is EINVAL", () => {
    expect(() => reservePort("localhost", 0)).toThrow("bind failed: EINVAL (reserving localhost:0 for the supervised processes)");
  });
});
