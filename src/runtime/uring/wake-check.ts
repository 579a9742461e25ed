/**
 * The wake-up self-test a new io_uring runtime runs once before it serves:
 * over a stream socket pair of its own (AF_UNIX: no port to take from the
 * user, no TIME_WAIT left behind), a native thread (rr_send_clock_after)
 * sends its send time after the loop has gone to sleep, from outside the
 * ring's thread as a peer's packet arrives, and the test measures when JS
 * sees the bytes, SAMPLES times. A completion that reaches
 * JS more than LATE_MS after it was sent is a late wake-up; more than
 * LATE_LIMIT of them make the verdict "late". Whatever the kernel does, a
 * sample cannot hang: a NUDGE_MS timer wakes the loop (again and again, as
 * the sender thread may run late), and the teardown
 * runs in the poll wake mode. Owns the measurement only; what to do
 * with a late verdict is runtime.ts's choice.
 */
import { ioError } from "../errors.ts";
import type { Conn } from "../types.ts";
import type { UringCore } from "./core.ts";

/** A completion seen later than this after it was posted is a late wake-up (a lost eventfd wake costs ~16 ms). */
export const LATE_MS = 2;
const SAMPLES = 12;
/** How long the sender waits: long enough for the loop to be asleep. */
const SEND_DELAY_US = 1000;
/** Late samples tolerated (one may be a scheduling hiccup on a busy machine). */
const LATE_LIMIT = 1;
/** A lost wake-up costs at most this much per sample. */
const NUDGE_MS = 25;

export interface WakeCheck {
  samples: number;
  /** Samples later than LATE_MS. */
  late: number;
  p50Us: number;
  maxUs: number;
  verdict: "ok" | "late";
}

export interface WakeCheckHost {
  readonly core: UringCore;
  /** Wraps an open socket fd as a Conn of this runtime (which then owns and closes it). */
  adopt(fd: number): Conn;
}

/** Runs the self-test on host's runtime and restores its wake mode afterwards. */
export async function checkWake(host: WakeCheckHost): Promise<WakeCheck> {
  const core = host.core;
  const loop = core.loop;
  const saved = loop.wakeMode;
  // The test measures the sleep and the eventfd: no idle poll meanwhile.
  const poll = loop.idlePoll;
  loop.idlePoll = null;
  const fds = new Int32Array(2);
  const r = core.lib.rr_socketpair(fds);
  if (r < 0) throw ioError(r, "socketpair", "wake self-test");
  const server = host.adopt(fds[0]!);
  const sender = fds[1]!;
  try {
    const lateUs: number[] = [];
    loop.wakeMode = "eventfd";
    await sample(core, server, sender); // warm-up: the first thread start and JIT are not the kernel's fault
    for (let i = 0; i < SAMPLES; i++) lateUs.push(await sample(core, server, sender));
    loop.wakeMode = "poll";
    lateUs.sort((a, b) => a - b);
    const late = lateUs.filter((us) => us > LATE_MS * 1000).length;
    return {
      samples: SAMPLES,
      late,
      p50Us: lateUs[SAMPLES >> 1]!,
      maxUs: lateUs[SAMPLES - 1]!,
      verdict: late > LATE_LIMIT ? "late" : "ok",
    };
  } finally {
    loop.wakeMode = "poll";
    core.lib.rr_close(sender);
    await server.close();
    loop.wakeMode = saved;
    loop.idlePoll = poll;
  }
}

/** One sample: microseconds from the native thread's send to JS holding the bytes. */
async function sample(core: UringCore, server: Conn, senderFd: number): Promise<number> {
  const buf = new Uint8Array(8);
  const read = readExactly(server, buf);
  const started = core.lib.rr_send_clock_after(senderFd, SEND_DELAY_US);
  if (started < 0) throw ioError(started, "pthread_create", "wake self-test sender");
  // Repeated, not once: on a busy machine the sender thread may run after a
  // single nudge, and a loop that loses wake-ups would then sleep for good.
  const nudge = setInterval(() => core.loop.defer(noop), NUDGE_MS + SEND_DELAY_US / 1000);
  try {
    await read;
  } finally {
    clearInterval(nudge);
  }
  const seen = core.lib.rr_clock_ms();
  const sent = new Float64Array(buf.buffer, 0, 1)[0]!;
  return Math.max(0, Math.round((seen - sent) * 1000));
}

async function readExactly(conn: Conn, buf: Uint8Array): Promise<void> {
  let got = 0;
  while (got < buf.length) {
    const r = await conn.read(buf.subarray(got));
    if (r.error !== null) throw r.error;
    if (r.res === 0) throw new Error("wake self-test: connection closed early");
    got += r.res;
  }
}

function noop(): void {}
