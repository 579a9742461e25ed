/**
 * The RPC client inside a Bun Worker, on each available driver, calling a
 * multi-core server: the same runtime and channel work off the main thread.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { probeUring } from "../../src/runtime/uring/probe.ts";
import { startServer, type ServerProcess } from "../helpers/server-process.ts";
import { skipTitle } from "../helpers/skip.ts";

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer("bench/server/server.ts", ["--port", "0", "--workers", "2"]);
});
afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

const uring = probeUring();

for (const driver of ["uring", "epoll"] as const) {
  const cannot = driver === "uring" && !uring.ok ? uring.reason : null;
  test.skipIf(cannot !== null)(skipTitle(`a channel in a Worker calls the server (${driver})`, cannot), async () => {
    const worker = new Worker(new URL("./fixtures/client-worker.ts", import.meta.url).href);
    const reply = await new Promise<{ driver?: string; sums?: number[]; text?: string; error?: string }>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("worker did not answer in 10 s")), 10_000);
      worker.addEventListener("message", (e: MessageEvent) => { clearTimeout(t); resolve(e.data); });
      worker.postMessage({ host: server.host, port: server.port, driver });
    });
    // The worker closes its runtime (and ring) itself, then exits on its own.
    const exited = await Promise.race([
      new Promise<boolean>((resolve) => worker.addEventListener("close", () => resolve(true))),
      Bun.sleep(5000).then(() => false),
    ]);
    if (!exited) worker.terminate();
    expect(exited).toBe(true);
    expect(reply.error).toBeUndefined();
    expect(reply.driver).toBe(driver);
    expect(reply.sums).toEqual(Array.from({ length: 100 }, (_, i) => i + 1000));
    expect(reply.text).toBe("from a worker");
  });
}
