/**
 * The thread-per-core launcher, tested on real server processes: per-worker
 * io_uring instances and CPU pinning (from /proc), idle CPU, graceful
 * SIGTERM, restart of a dead worker, the driver selection line, and the
 * line for workers that do not share their port.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { connect } from "node:net";
import { probeUring } from "../../src/runtime/uring/probe.ts";
import { startServer } from "../helpers/server-process.ts";
import { skipTitle } from "../helpers/skip.ts";

const uring = probeUring();
const ECHO = "examples/echo/server.ts";

function ringFds(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === "anon_inode:[io_uring]") n++;
    } catch {
      // fd closed while we looked
    }
  }
  return n;
}

/** Cpus_allowed_list of every thread of pid that is pinned to exactly one CPU. */
function pinnedThreads(pid: number): string[] {
  const out: string[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8");
      const m = status.match(/Cpus_allowed_list:\s*(\S+)/);
      if (m && /^\d+$/.test(m[1]!)) out.push(m[1]!);
    } catch {
      // thread exited
    }
  }
  return out.sort();
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

/** One echo round trip over node:net, independent of the runtime under test. */
function echoOnce(port: number, text: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => s.write(text));
    let got = "";
    const t = setTimeout(() => { s.destroy(); reject(new Error("echo timeout")); }, timeoutMs);
    s.on("data", (d) => {
      got += d.toString();
      if (got.length >= text.length) { clearTimeout(t); s.end(); resolve(got); }
    });
    s.on("error", (e) => { clearTimeout(t); reject(e); });
  });
}

describe("launcher", () => {
  test.skipIf(!uring.ok)(skipTitle("each uring worker owns an io_uring instance and is pinned to its CPU", uring.ok ? null : uring.reason), async () => {
    const s = await startServer(ECHO, ["--port", "0", "--workers", "2", "--driver", "uring"]);
    try {
      expect(s.driver).toBe("uring");
      expect(ringFds(s.proc.pid)).toBeGreaterThanOrEqual(2);
      // Threads a pinned worker starts inherit its CPU, so compare the set.
      expect([...new Set(pinnedThreads(s.proc.pid))]).toEqual(["0", "1"]);
      expect(await echoOnce(s.port, "hello")).toBe("hello");
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });

  for (const driver of ["uring", "epoll"] as const) {
    const cannot = driver === "uring" && !uring.ok ? uring.reason : null;
    test.skipIf(cannot !== null)(skipTitle(`idle ${driver} server with 2 workers uses < 2% CPU over 2 s`, cannot), async () => {
      const s = await startServer(ECHO, ["--port", "0", "--workers", "2", "--driver", driver]);
      try {
        expect(await echoOnce(s.port, "warm")).toBe("warm");
        await Bun.sleep(300);
        const hz = 100; // USER_HZ on Linux
        const t0 = cpuTicks(s.proc.pid);
        const w0 = performance.now();
        await Bun.sleep(2000);
        const used = (cpuTicks(s.proc.pid) - t0) / hz;
        const wall = (performance.now() - w0) / 1000;
        // Measured 0.5% for both drivers (2 runs each, 2026-12-06): CPU time, not wall time, so load elsewhere barely moves it.
        expect(used / wall).toBeLessThan(0.02);
      } finally {
        expect(await s.stop()).toBe(0);
      }
    });
  }

  test("SIGTERM stops every worker and exits 0", async () => {
    const s = await startServer(ECHO, ["--port", "0", "--workers", "2"]);
    expect(await echoOnce(s.port, "x")).toBe("x");
    expect(await s.stop()).toBe(0);
    expect(s.stderr()).toContain("SIGTERM: stopping 2 workers");
  });

  for (const [how, trigger, exitCode] of [["process.exit(3)", "CRASH", 3], ["an uncaught exception", "THROW", 1]] as const) {
    test(`a worker that dies of ${how} is logged and restarted while the others keep serving`, async () => {
      const s = await startServer("test/runtime/fixtures/crashy-echo.ts", [], { env: { FIXTURE_WORKERS: "2" } });
      try {
        // SO_REUSEPORT spreads connections; kill whichever worker gets this one.
        const crash = connect(s.port, "127.0.0.1", () => crash.write(trigger));
        crash.on("error", () => {
          // The worker dies with this connection open: a reset here is the expected outcome.
        });
        const deadline = Date.now() + 5000;
        while (!s.stderr().includes("restarted") && Date.now() < deadline) await Bun.sleep(20);
        expect(s.stderr()).toMatch(new RegExp(`worker \\d \\(cpu \\d\\) exited with code ${exitCode}; restarting`));
        expect(s.stderr()).toMatch(/worker \d \(cpu \d\) restarted/);
        expect(s.stderr()).toMatch(new RegExp(`level=error msg="[^"]+" event=worker_exit worker=\\d cpu=\\d exitCode=${exitCode} restartInMs=100 restarts=1`));
        expect(s.stderr()).toMatch(/level=info msg="[^"]+" event=worker_restart worker=\d cpu=\d restarts=1/);
        // Every new connection is served: none lands on a dead worker's listener.
        for (let i = 0; i < 40; i++) expect(await echoOnce(s.port, `after ${i}`)).toBe(`after ${i}`);
      } finally {
        expect(await s.stop()).toBe(0);
      }
    });
  }

  test("without the native library, auto falls back to epoll and says why in one line", async () => {
    const s = await startServer(ECHO, ["--port", "0", "--workers", "1"], { env: { RINGRPC_NATIVE_LIB: "/nonexistent/libringrpc.so" } });
    try {
      expect(s.driver).toBe("epoll");
      const line = s.stderr().split("\n").find((l) => l.includes("io_uring unavailable"));
      // The start event (docs/RPC.md, "Logs"): the reason is its message, the choice its fields.
      expect(line).toMatch(/^time=\S+ level=info msg="io_uring unavailable \(RINGRPC_NATIVE_LIB=\/nonexistent\/libringrpc\.so does not exist; point RINGRPC_NATIVE_LIB at a libringrpc\.so built for this machine, or unset it\); using epoll" event=start driver=epoll workers=1 host=127\.0\.0\.1 port=\d+$/);
      expect(await echoOnce(s.port, "fallback")).toBe("fallback");
    } finally {
      await s.stop();
    }
  });

  for (const driver of ["epoll", "uring"] as const) {
    const skip = driver === "uring" && !uring.ok ? uring.reason : null;
    test.skipIf(skip !== null)(skipTitle(`workers that listen without reusePort fail to start in one line that says what to change (${driver})`, skip), async () => {
      const proc = Bun.spawn([process.execPath, "test/runtime/fixtures/exclusive-workers.ts", driver], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
      const killer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
      clearTimeout(killer);
      expect({ code, out }).toEqual({ code: 1, out: "" });
      expect(err).toMatch(
        /^exclusive workers: worker 1 failed to start: it cannot listen on 127\.0\.0\.1:\d+ beside worker 0 \(EADDRINUSE\): every worker must listen with reusePort: true \(ctx\.runtime\.listen\(\{ host: ctx\.host, port: ctx\.port, reusePort: true \}\)\)\n$/,
      );
    });
  }

  test("RINGRPC_DRIVER=uring where io_uring cannot run fails with the reason", async () => {
    const proc = Bun.spawn([process.execPath, ECHO, "--port", "0", "--workers", "1"], {
      env: { ...process.env, RINGRPC_DRIVER: "uring", RINGRPC_NATIVE_LIB: "/nonexistent/libringrpc.so" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const code = await proc.exited;
    const err = await new Response(proc.stderr).text();
    expect(code).toBe(1);
    expect(err.trim()).toBe("echo server: uring driver unavailable: RINGRPC_NATIVE_LIB=/nonexistent/libringrpc.so does not exist; point RINGRPC_NATIVE_LIB at a libringrpc.so built for this machine, or unset it");
  });
});
