/**
 * AcceptBackoff (src/runtime/accept-backoff.ts) on its own: the pause after
 * each failure (10 ms doubling to 1 s), one line when an episode starts and
 * one when accepting has worked for the settle period, a failure during
 * that period keeping the episode open, and the runtime-wide counters.
 */
import { describe, expect, test } from "bun:test";
import { ACCEPT_BACKOFF_FIRST_MS, ACCEPT_BACKOFF_MAX_MS, AcceptBackoff, AcceptCounters, isFdShortage } from "../../src/runtime/accept-backoff.ts";
import { Errno } from "../../src/runtime/errors.ts";
import { sleep } from "../rpc/helpers/harness.ts";

const SETTLE_MS = 20;

function backoff(): { b: AcceptBackoff; lines: string[]; counters: AcceptCounters } {
  const lines: string[] = [];
  const counters = new AcceptCounters();
  const b = new AcceptBackoff("ringrpc test: accept on 127.0.0.1:1", counters, { log: (l) => lines.push(l), settleMs: SETTLE_MS });
  return { b, lines, counters };
}

describe("AcceptBackoff", () => {
  test("EMFILE and ENFILE (either sign) are fd shortages; other errnos are not", () => {
    expect([Errno.EMFILE, -Errno.EMFILE, Errno.ENFILE, -Errno.ENFILE].map(isFdShortage)).toEqual([true, true, true, true]);
    expect([Errno.ECONNABORTED, -Errno.ENOBUFS, 0].map(isFdShortage)).toEqual([false, false, false]);
  });

  test("the pause doubles from 10 ms and stops at 1 s; one line for the whole episode", () => {
    const { b, lines, counters } = backoff();
    const delays = Array.from({ length: 10 }, () => b.failed(-Errno.EMFILE));
    expect(delays).toEqual([10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
    expect(delays[0]).toBe(ACCEPT_BACKOFF_FIRST_MS);
    expect(delays.at(-1)).toBe(ACCEPT_BACKOFF_MAX_MS);
    expect(lines.length).toBe(1);
    expect(lines[0]).toStartWith("ringrpc test: accept on 127.0.0.1:1: this process is out of file descriptors (EMFILE");
    expect(lines[0]).toContain("Raise the limit (`ulimit -n`");
    expect(counters.snapshot()).toEqual({ fdExhausted: 1, retries: 9, pausedListeners: 1 });
    b.close();
  });

  test("ENFILE says the system is out and what to raise", () => {
    const { b, lines } = backoff();
    b.failed(Errno.ENFILE);
    expect(lines).toEqual([
      "ringrpc test: accept on 127.0.0.1:1: the system is out of file descriptors (ENFILE); not accepting for 10 ms, then retrying with back-off up to 1000 ms until descriptors free up. Raise fs.file-max (sysctl) or find what holds so many files.",
    ]);
    b.close();
  });

  test("accepting for the settle period ends the episode with one line; the next failure starts over at 10 ms", async () => {
    const { b, lines, counters } = backoff();
    b.failed(Errno.EMFILE);
    b.failed(Errno.EMFILE);
    b.accepted();
    b.accepted();
    expect(b.inEpisode).toBe(true);
    await sleep(SETTLE_MS * 4);
    expect(b.inEpisode).toBe(false);
    expect(lines.length).toBe(2);
    expect(lines[1]).toMatch(/^ringrpc test: accept on 127\.0\.0\.1:1: accepting again \(file descriptors were short for [\d.]+ s; 1 retries\)$/);
    expect(counters.snapshot()).toEqual({ fdExhausted: 1, retries: 1, pausedListeners: 0 });
    expect(b.failed(Errno.EMFILE)).toBe(ACCEPT_BACKOFF_FIRST_MS);
    expect(lines.length).toBe(3);
    expect(counters.fdExhausted).toBe(2);
    b.close();
  });

  test("a failure within the settle period keeps the episode open and the pause growing, with no new line", async () => {
    const { b, lines } = backoff();
    b.failed(Errno.EMFILE);
    b.accepted();
    expect(b.failed(Errno.EMFILE)).toBe(20);
    await sleep(SETTLE_MS * 4);
    expect(b.inEpisode).toBe(true);
    expect(lines.length).toBe(1);
    b.close();
  });

  test("accepting outside an episode prints nothing; close() mid-episode ends it without a line", async () => {
    const { b, lines, counters } = backoff();
    b.accepted();
    await sleep(SETTLE_MS * 2);
    expect(lines).toEqual([]);
    b.failed(Errno.EMFILE);
    b.accepted();
    b.close();
    await sleep(SETTLE_MS * 2);
    expect(lines.length).toBe(1);
    expect(counters.snapshot()).toEqual({ fdExhausted: 1, retries: 0, pausedListeners: 0 });
  });
});
