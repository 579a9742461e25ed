/**
 * One server per port (src/runtime/port-claim.ts): the start-up check finds
 * any other socket on the port (a SO_REUSEPORT listener, which the kernel
 * would otherwise let a new server join, and the supervised mode's
 * reservation) and says so in one line; sockets in TIME_WAIT do not count;
 * and the start-up lock makes two servers starting at once on one port
 * take turns, so the second sees the first's listener. Listeners in this
 * process stand for another process's: the kernel's port sharing rules do
 * not look at the process.
 */
import type { TCPSocketListenOptions } from "bun";
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { claimPort, type PortClaim, startLockName } from "../../src/runtime/port-claim.ts";
import { reservePort, type PortReservation } from "../../src/runtime/port-reservation.ts";

const HOST = "127.0.0.1";
const claims: PortClaim[] = [];
const listeners: { stop(closeActive?: boolean): void }[] = [];
const reservations: PortReservation[] = [];
afterEach(() => {
  for (const c of claims.splice(0)) c.release();
  for (const l of listeners.splice(0)) l.stop(true);
  for (const r of reservations.splice(0)) r.release();
});

/** reusePort is accepted by Bun.listen at run time; its type declarations lack it. */
type ListenWithReusePort = TCPSocketListenOptions<undefined> & { reusePort: boolean };

/** A listener that ends every connection at once (the server side closes first: TIME_WAIT lands on its port). */
function listen(port: number, reusePort: boolean) {
  const options: ListenWithReusePort = { hostname: HOST, port, reusePort, socket: { data() {}, open(s) { s.end(); } } };
  const l = Bun.listen<undefined>(options);
  listeners.push(l);
  return l;
}

/** A port nothing holds right now. */
function freePort(): number {
  const l = listen(0, false);
  const port = l.port;
  l.stop(true);
  listeners.splice(listeners.indexOf(l), 1);
  return port;
}

async function claim(port: number, waitMs?: number): Promise<PortClaim> {
  const c = await claimPort(HOST, port, waitMs === undefined ? {} : { waitMs });
  claims.push(c);
  return c;
}

function failure(p: Promise<unknown>): Promise<{ name?: string; code?: string; message?: string } | null> {
  return p.then(
    () => null,
    (e: unknown) => e as { name?: string; code?: string; message?: string },
  );
}

function inUseLine(port: number): string {
  return (
    `${HOST}:${port} is already in use by another process (a second server there would split the connections with it): ` +
    "stop that process or pick another port, or pass reusePort: true to share the port on purpose"
  );
}

/** Sockets in TIME_WAIT (state 06) on 127.0.0.1:port, from /proc/net/tcp. */
function timeWaits(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  return readFileSync("/proc/net/tcp", "utf8").split("\n").filter((l) => {
    const f = l.trim().split(/\s+/);
    return f[1] === local && f[3] === "06";
  }).length;
}

describe("claimPort", () => {
  test("a port another SO_REUSEPORT listener serves is refused in one line (PortInUse, EADDRINUSE), and the lock is let go", async () => {
    const other = listen(0, true);
    const e = await failure(claim(other.port));
    expect({ name: e?.name, code: e?.code, message: e?.message }).toEqual({ name: "PortInUse", code: "EADDRINUSE", message: inUseLine(other.port) });
    // Refused again at once: the failed claim did not keep the start-up lock.
    const t0 = performance.now();
    expect((await failure(claim(other.port, 5000)))?.name).toBe("PortInUse");
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  test("a port the supervised mode's reservation holds is refused too", async () => {
    const r = reservePort(HOST, 0);
    reservations.push(r);
    expect((await failure(claim(r.port)))?.message).toBe(inUseLine(r.port));
  });

  test("a free port is claimed, and a SO_REUSEPORT listener can then take it", async () => {
    const port = freePort();
    const c = await claim(port);
    expect(listen(port, true).port).toBe(port);
    c.release();
  });

  test("sockets in TIME_WAIT left on the port by an earlier server do not count", async () => {
    const earlier = listen(0, true);
    const port = earlier.port;
    await new Promise<void>((resolve) => {
      const s = connect(port, HOST);
      s.on("close", () => resolve());
      s.on("error", () => resolve());
      s.resume();
    });
    earlier.stop(true);
    expect(timeWaits(port)).toBeGreaterThan(0);
    const c = await claim(port);
    c.release();
  });

  test("while one server holds the start-up lock a second one waits, then sees the first's listener and is refused", async () => {
    const port = freePort();
    const first = await claim(port);
    let settled = false;
    const second = failure(claim(port)).finally(() => {
      settled = true;
    });
    await Bun.sleep(100);
    // The first's probe passed but nothing listens yet: without the lock the second would pass its probe now.
    expect(settled).toBe(false);
    listen(port, true); // the first server's first worker
    first.release();
    expect((await second)?.message).toBe(inUseLine(port));
  });

  test("a lock held past the wait fails in one line that names it; port 0 takes no lock", async () => {
    const port = freePort();
    await claim(port);
    const e = await failure(claim(port, 100));
    expect(e?.message).toBe(
      `another ringrpc server has been starting on port ${port} for 0.1 s (it holds the start-up lock @${startLockName(port).slice(1)}): ` +
        "wait until it serves or stop it, then start this one again",
    );
    const a = await claim(0, 100);
    const b = await claim(0, 100);
    a.release();
    b.release();
  });
});
