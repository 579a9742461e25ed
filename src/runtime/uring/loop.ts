/**
 * EventLoop: drives one Ring inside Bun's own event loop (docs/RUNTIME.md,
 * "The event loop" and "Waking up"). One rr_step per loop step; `await null`
 * between steps so promise continuations run and queue the next commands; a
 * macrotask yield every few steps so timers and messages run; when a step
 * reaps nothing and nothing is queued: re-enable the ring's eventfd, step
 * once more to close the race, then sleep on the eventfd through
 * Bun.file(fd).stream() (one reader kept across idles) or until JS queues a
 * command. In the safe "poll" wake mode a sleep is also bounded by a short
 * timer, for a kernel whose eventfd wake-up was measured late. With the
 * opt-in idle poll (IdlePoll), an idle loop first keeps stepping the ring for
 * a short window. Counts every sleep and what ended it (WakeCounters).
 * Deferred callbacks run right before each step. Never blocks in native
 * code. Knows nothing about what the completions mean: it hands the event
 * count to `dispatch`.
 * Holds the process alive only while its owner says it has something open
 * (`holdsProcess`: sockets or ops in flight): an eventfd reader keeps Bun's
 * event loop alive, so a sleep with nothing open releases the reader (a poll
 * mode timer is unref'd then) and the next sleep with work makes a new one;
 * a loop with nothing open is woken only by JS queuing work, which is all
 * that can happen then (docs/RUNTIME.md, "Letting the process exit").
 */
import type { IdlePoll } from "./idle-poll.ts";
import type { Ring } from "./ring.ts";
import { runtimeLogger } from "../log/runtime-log.ts";

/** Steps between macrotask yields (timers, messages, Bun's own I/O). */
const YIELD_EVERY = 16;
/** Microtask hops to let continuation chains queue their commands before going idle. */
const SETTLE_HOPS = 3;
/** Failed eventfd reads before the loop falls back to timer polling. */
const MAX_READ_FAILURES = 3;
/** Longest sleep in the "poll" wake mode (and after the eventfd reader failed). */
const POLL_MS = 1;

/**
 * How an idle loop is woken: "eventfd" (the ring's eventfd alone) or "poll"
 * (the eventfd, and a POLL_MS timer as well: the safe mode the wake self-test
 * or the guard picks when eventfd wake-ups were measured late).
 */
export type WakeMode = "eventfd" | "poll";

/** What ended each sleep of the loop; all counts since the loop started. */
export interface WakeCounters {
  sleeps: number;
  /** The ring's eventfd became readable. */
  eventfdWakes: number;
  /** JS queued a command or a deferred callback. */
  jsWakes: number;
  /** The poll-mode timer ran out. */
  pollWakes: number;
  /** Macrotask yields while busy. */
  yields: number;
  /** Idle moments that polled the ring (the opt-in idle poll), and those whose window found work, so the loop did not sleep. */
  idlePolls: number;
  idlePollHits: number;
}

export class EventLoop {
  private readonly ring: Ring;
  private readonly dispatch: (n: number) => void;
  private readonly onSubmitted: (ud: number) => void;
  private readonly onError: (error: unknown) => void;
  private defers: Array<() => void> = [];
  private spareDefers: Array<() => void> = [];
  private reader: EventfdReader | null = null;
  private readPending = false;
  private wake: (() => void) | null = null;
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  readonly counters: WakeCounters = { sleeps: 0, eventfdWakes: 0, jsWakes: 0, pollWakes: 0, yields: 0, idlePolls: 0, idlePollHits: 0 };
  wakeMode: WakeMode = "eventfd";
  /** The opt-in idle poll; null: an idle loop sleeps at once. */
  idlePoll: IdlePoll | null = null;
  /** Called right before each sleep, e.g. to arm a wake probe; may queue commands. */
  onIdle: (() => void) | null = null;
  /**
   * True while the runtime has something open (a socket, an op in flight):
   * only then does a sleep keep the process alive. Set by the owner; the
   * default keeps the process alive whenever the loop sleeps.
   */
  holdsProcess: () => boolean = () => true;
  /** Sleeps that released the eventfd reader because nothing was open (one per change from something open to nothing). */
  releases = 0;
  private done: Promise<void> | null = null;
  private readonly onReadable = (reader: EventfdReader, result: { done?: boolean }): void => {
    if (reader !== this.reader) return; // a released reader's cancelled read
    if (result.done === true) {
      this.onReadFailed(reader, "the eventfd stream ended");
      return;
    }
    this.readPending = false;
    this.readFailures = 0;
    if (this.wake !== null) this.counters.eventfdWakes++;
    this.wakeUp();
  };
  private readonly onReadFailed = (reader: EventfdReader, error: unknown): void => {
    if (reader !== this.reader) return;
    // The eventfd stream failed: drop the reader and make a new one at the
    // next idle; after repeated failures poll with a timer instead, so the
    // loop neither spins nor sleeps through completions.
    this.readPending = false;
    this.reader = null;
    if (++this.readFailures === MAX_READ_FAILURES && !this.stopped) {
      runtimeLogger().warn(
        { event: "wake_mode", wakeMode: "poll", reason: "eventfd_unwatchable", err: String(error) },
        `io_uring: cannot watch the ring's eventfd (${String(error)}); polling every ${POLL_MS} ms instead`,
      );
    }
    this.wakeUp();
  };
  private readonly onPollTimer = (): void => {
    this.pollTimer = null;
    if (this.wake !== null) this.counters.pollWakes++;
    this.wakeUp();
  };
  private readFailures = 0;

  constructor(ring: Ring, dispatch: (n: number) => void, onSubmitted: (ud: number) => void, onError: (error: unknown) => void) {
    this.ring = ring;
    this.dispatch = dispatch;
    this.onSubmitted = onSubmitted;
    this.onError = onError;
    ring.onWake = () => this.wakeFromJs();
  }

  start(): void {
    if (this.done === null) this.done = this.run();
  }

  /** Runs fn once right before the next submission; wakes an idle loop. */
  defer(fn: () => void): void {
    this.defers.push(fn);
    if (this.ring.sleeping) this.wakeFromJs();
  }

  /** Stops after the current step; resolves when the loop has exited and the eventfd reader is released. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp();
    if (this.done !== null) await this.done;
    await this.releaseReader();
  }

  /** Cancels the eventfd reader (its pending read ends; its dup of the fd closes), so it no longer holds Bun's loop. */
  private releaseReader(): Promise<void> {
    const reader = this.reader;
    if (reader === null) return Promise.resolve();
    this.reader = null;
    this.readPending = false;
    return reader.stream.cancel().catch(() => {
      // already closed
    });
  }

  /** One loop step: deferred callbacks, one rr_step, dispatch. Returns the event count. */
  private stepOnce(): number {
    if (this.defers.length > 0) this.runDefers();
    const n = this.ring.step(0, this.onSubmitted);
    if (n > 0) this.dispatch(n);
    else if (n < 0) this.onError(n);
    return n;
  }

  private runDefers(): void {
    const list = this.defers;
    this.defers = this.spareDefers;
    this.spareDefers = list;
    for (let i = 0; i < list.length; i++) {
      try {
        list[i]!();
      } catch (e) {
        this.onError(e);
      }
    }
    list.length = 0;
  }

  private busy(): boolean {
    return this.ring.pending > 0 || this.defers.length > 0;
  }

  private async run(): Promise<void> {
    let sinceYield = 0;
    const evtCap = this.ring.opts.evtCap;
    while (!this.stopped) {
      const n = this.stepOnce();
      if (++sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        this.counters.yields++;
        await macrotask();
      } else {
        await null;
      }
      // Commands queued by the continuations, or a full event array: step again.
      if (this.busy() || n === evtCap) continue;
      let settled = true;
      for (let i = 0; i < SETTLE_HOPS; i++) {
        await null;
        if (this.busy()) {
          settled = false;
          break;
        }
      }
      if (!settled || this.stopped) continue;
      if (this.onIdle !== null) {
        this.onIdle();
        if (this.busy()) continue;
      }
      if (this.idlePoll !== null && this.pollIdle(this.idlePoll)) {
        await null;
        continue;
      }
      // Nothing queued: arm the eventfd, then step once more so a completion
      // that raced with the arming (or is already waiting) is not slept through.
      this.ring.setEventfd(true);
      if (this.stepOnce() > 0 || this.busy()) {
        this.ring.setEventfd(false);
        await null;
        continue;
      }
      sinceYield = 0;
      this.counters.sleeps++;
      await this.sleep();
      this.ring.setEventfd(false);
    }
  }

  /**
   * The idle poll: steps the ring (no syscall unless the kernel has work)
   * until something arrives or the window ends. True when work arrived, so
   * the loop goes on without sleeping.
   */
  private pollIdle(poll: IdlePoll): boolean {
    if (!poll.shouldPoll()) return false;
    this.counters.idlePolls++;
    const end = performance.now() + poll.windowMs;
    do {
      if (this.stepOnce() > 0 || this.busy()) {
        this.counters.idlePollHits++;
        poll.hit();
        return true;
      }
    } while (performance.now() < end && !this.stopped);
    poll.miss();
    return false;
  }

  private sleep(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      this.ring.sleeping = true;
      if (this.stopped) {
        this.wakeUp();
        return;
      }
      // Nothing open: no completion can come, so nothing but JS (or the poll
      // timer) ends this sleep, and nothing here may hold the process.
      const holds = this.holdsProcess();
      if (!holds && this.reader !== null) {
        this.releases++;
        void this.releaseReader();
      }
      if (this.wakeMode === "poll" || this.readFailures >= MAX_READ_FAILURES) {
        this.pollTimer = setTimeout(this.onPollTimer, POLL_MS);
        // Unref'd with nothing open: it then only keeps the poll mode's
        // schedule (the guard's re-tests run at idle moments).
        if (!holds) this.pollTimer.unref();
      }
      if (!holds || this.readFailures >= MAX_READ_FAILURES) return;
      if (!this.readPending) {
        const reader = this.reader ?? this.newReader();
        this.readPending = true;
        reader.stream.read().then(reader.onReadable, reader.onReadFailed);
      }
    });
  }

  /**
   * A reader of the ring's eventfd (Bun dups the fd and adds the dup to its
   * epoll set). The eventfd is a counter: a signal from before the reader
   * existed still reads at once, so a new reader loses no wake-up.
   */
  private newReader(): EventfdReader {
    const reader: EventfdReader = {
      stream: Bun.file(this.ring.eventfd).stream().getReader(),
      onReadable: (result) => this.onReadable(reader, result),
      onReadFailed: (error) => this.onReadFailed(reader, error),
    };
    this.reader = reader;
    return reader;
  }

  private wakeFromJs(): void {
    if (this.wake !== null) this.counters.jsWakes++;
    this.wakeUp();
  }

  private wakeUp(): void {
    this.ring.sleeping = false;
    if (this.pollTimer !== null) {
      clearTimeout(this.pollTimer);
      this.pollTimer = null;
    }
    const w = this.wake;
    if (w !== null) {
      this.wake = null;
      w();
    }
  }
}

/** One eventfd reader and its callbacks, made once per reader (not per read). */
interface EventfdReader {
  readonly stream: { read(): Promise<{ done?: boolean }>; cancel(): Promise<void> };
  readonly onReadable: (result: { done?: boolean }) => void;
  readonly onReadFailed: (error: unknown) => void;
}

function macrotask(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
