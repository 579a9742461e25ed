/**
 * The supervised child's side of the protocol (src/runtime/supervised-child.ts):
 * the environment entry round-trips, a malformed one or one set by hand (no
 * supervisor, no IPC channel) is refused with one line that says what to do.
 */
import { describe, expect, test } from "bun:test";
import { CHILD_ENV, childEnv, childSpecFromEnv, type ChildSpec } from "../../src/runtime/supervised-child.ts";

const spec: ChildSpec = { index: 1, processes: 2, port: 40123, workers: 1, cpus: [1], driver: "epoll", graceMs: 1000 };

describe("supervised child spec", () => {
  test("childEnv and childSpecFromEnv round-trip; without the entry a process is no child", () => {
    expect(childSpecFromEnv(childEnv(spec))).toEqual(spec);
    expect(childSpecFromEnv({})).toBeNull();
    expect(childSpecFromEnv({ [CHILD_ENV]: "" })).toBeNull();
  });

  test("a malformed entry is refused, naming the variable", () => {
    for (const bad of ["{", JSON.stringify({ ...spec, driver: "kqueue" }), JSON.stringify({ ...spec, port: "x" }), "null"]) {
      expect(() => childSpecFromEnv({ [CHILD_ENV]: bad })).toThrow(`${CHILD_ENV} is malformed (`);
    }
  });

  test("the entry set by hand on a server (no supervisor, no IPC) fails its start in one line", async () => {
    const proc = Bun.spawn([process.execPath, "examples/kv/server.ts", "--port", "0", "--workers", "1"], {
      cwd: new URL("../..", import.meta.url).pathname,
      env: { ...process.env, ...childEnv(spec) },
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    const code = await proc.exited;
    clearTimeout(timer);
    expect(code).toBe(1);
    expect((await new Response(proc.stderr).text()).trim()).toBe(
      `kv server: ${CHILD_ENV} is set but no supervisor started this process (no IPC channel): unset ${CHILD_ENV} to serve on its own`,
    );
  });
});
