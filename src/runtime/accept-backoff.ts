/**
 * AcceptBackoff: what one listener does while accept fails for lack of file
 * descriptors (EMFILE: the process's limit, `ulimit -n`; ENFILE: the
 * system's, fs.file-max). Both drivers use it the same way: on such a
 * failure they stop accepting for the delay `failed()` returns (10 ms,
 * doubling up to 1 s while the failures go on), then try again; they call
 * `accepted()` for every connection they get. An episode prints one line
 * when it starts (what is wrong, what to do) and one when accepting has
 * worked for RECOVERY_SETTLE_MS without a new failure (so a freed
 * descriptor that is taken again at once does not print a pair of lines
 * per connection). The counts are the runtime's AcceptCounters
 * (Runtime.stats().accept). Owns no socket: the driver stops, retries and
 * resumes accepting.
 */
import { readFileSync } from "node:fs";
import { Errno } from "./errors.ts";
import type { AcceptStats } from "./types.ts";

/** First pause after a failure; it doubles on each failed retry. */
export const ACCEPT_BACKOFF_FIRST_MS = 10;
/** The longest pause between retries. */
export const ACCEPT_BACKOFF_MAX_MS = 1000;
/** Accepting must work this long without a failure before the episode ends. */
export const RECOVERY_SETTLE_MS = 500;

/** The runtime-wide counts behind Runtime.stats().accept, shared by the runtime's listeners. */
export class AcceptCounters implements AcceptStats {
  fdExhausted = 0;
  retries = 0;
  pausedListeners = 0;

  snapshot(): AcceptStats {
    return { fdExhausted: this.fdExhausted, retries: this.retries, pausedListeners: this.pausedListeners };
  }
}

/** True for the errnos that mean "no file descriptor left" (EMFILE, ENFILE), either sign. */
export function isFdShortage(errno: number): boolean {
  const n = Math.abs(errno);
  return n === Errno.EMFILE || n === Errno.ENFILE;
}

export interface AcceptBackoffOptions {
  /** Where the two lines of an episode go (default: stderr). */
  log?: (line: string) => void;
  /** Default RECOVERY_SETTLE_MS. */
  settleMs?: number;
}

export class AcceptBackoff {
  private delayMs = 0;
  private episodeStart = 0;
  private episodeRetries = 0;
  private settleTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly log: (line: string) => void;
  private readonly settleMs: number;
  /** The soft RLIMIT_NOFILE, read while a descriptor can still be opened; null when unknown. */
  private readonly fdLimit: number | null;

  constructor(
    /** "ringrpc epoll: accept on 127.0.0.1:7000": the start of both lines. */
    private readonly where: string,
    private readonly counters: AcceptCounters,
    opts: AcceptBackoffOptions = {},
  ) {
    this.log = opts.log ?? ((line) => console.error(line));
    this.settleMs = opts.settleMs ?? RECOVERY_SETTLE_MS;
    this.fdLimit = readFdLimit();
  }

  /** True from the first failure until accepting has worked long enough again. */
  get inEpisode(): boolean {
    return this.delayMs > 0;
  }

  /** Accept failed with `errno` (EMFILE or ENFILE): returns how long to stop accepting, in ms. */
  failed(errno: number): number {
    this.cancelSettle();
    if (this.delayMs === 0) {
      this.delayMs = ACCEPT_BACKOFF_FIRST_MS;
      this.episodeStart = performance.now();
      this.episodeRetries = 0;
      this.counters.fdExhausted++;
      this.counters.pausedListeners++;
      this.log(this.exhaustedLine(Math.abs(errno)));
      return this.delayMs;
    }
    this.episodeRetries++;
    this.counters.retries++;
    this.delayMs = Math.min(this.delayMs * 2, ACCEPT_BACKOFF_MAX_MS);
    return this.delayMs;
  }

  /** A connection was accepted; during an episode this starts (or continues) the settle period. */
  accepted(): void {
    if (this.delayMs === 0 || this.settleTimer !== null) return;
    this.settleTimer = setTimeout(() => this.recovered(), this.settleMs);
    this.settleTimer.unref?.();
  }

  /** The listener closed: the episode ends without a line. */
  close(): void {
    this.cancelSettle();
    if (this.delayMs === 0) return;
    this.delayMs = 0;
    this.counters.pausedListeners--;
  }

  private recovered(): void {
    this.settleTimer = null;
    if (this.delayMs === 0) return;
    const seconds = ((performance.now() - this.episodeStart - this.settleMs) / 1000).toFixed(2);
    this.delayMs = 0;
    this.counters.pausedListeners--;
    this.log(`${this.where}: accepting again (file descriptors were short for ${seconds} s; ${this.episodeRetries} retries)`);
  }

  private cancelSettle(): void {
    if (this.settleTimer === null) return;
    clearTimeout(this.settleTimer);
    this.settleTimer = null;
  }

  private exhaustedLine(errno: number): string {
    const pause = `not accepting for ${ACCEPT_BACKOFF_FIRST_MS} ms, then retrying with back-off up to ${ACCEPT_BACKOFF_MAX_MS} ms until descriptors free up`;
    if (errno === Errno.ENFILE)
      return `${this.where}: the system is out of file descriptors (ENFILE); ${pause}. Raise fs.file-max (sysctl) or find what holds so many files.`;
    const limit = this.fdLimit === null ? "" : `, limit ${this.fdLimit}`;
    return `${this.where}: this process is out of file descriptors (EMFILE${limit}); ${pause}. Raise the limit (\`ulimit -n\`, LimitNOFILE= in a systemd unit, --ulimit nofile= in Docker) or lower maxConnections.`;
  }
}

/** The soft "Max open files" of /proc/self/limits, or null. */
function readFdLimit(): number | null {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
    return soft !== undefined && /^\d+$/.test(soft) ? Number(soft) : null;
  } catch {
    return null;
  }
}
