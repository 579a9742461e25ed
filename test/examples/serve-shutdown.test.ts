/**
 * serve() on 2 workers, shut down with SIGTERM under load: every call the
 * clients issued either completed or failed with UNAVAILABLE (none lost,
 * none hanging), and the server exits 0.
 */
import { expect, test } from "bun:test";
import { BenchClient } from "../../bench/gen/bench.ts";
import { createChannel } from "../../src/rpc/client.ts";
import { createRuntime } from "../../src/runtime/select.ts";
import { startServer } from "../helpers/server-process.ts";

test("SIGTERM under load: every call completes or fails with UNAVAILABLE", async () => {
  const server = await startServer("bench/server/server.ts", ["--port", "0", "--workers", "2"]);
  const { runtime: rt } = await createRuntime();
  const channels = Array.from({ length: 4 }, () => createChannel(rt, { endpoints: [{ host: server.host, port: server.port }] }));
  let issued = 0;
  let ok = 0;
  let unavailable = 0;
  const other: string[] = [];
  let stopping = false;
  const data = new Uint8Array(64);
  const loops = channels.flatMap((ch) => {
    const client = new BenchClient(ch);
    return Array.from({ length: 16 }, async () => {
      while (!stopping) {
        issued++;
        try {
          await client.echo({ data }, { timeoutMs: 5000 });
          ok++;
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (code === "UNAVAILABLE") unavailable++;
          else other.push(`${code}: ${(e as Error).message}`);
          await Bun.sleep(5);
        }
      }
    });
  });
  while (ok < 2000) await Bun.sleep(10);
  const exited = server.stop(10_000);
  // Keep calling while the server drains, then stop issuing.
  await Bun.sleep(300);
  stopping = true;
  await Promise.all(loops);
  expect(await exited).toBe(0);
  await Promise.all(channels.map((c) => c.close()));
  await rt.close();
  expect(other).toEqual([]);
  expect(ok + unavailable).toBe(issued);
  expect(ok).toBeGreaterThanOrEqual(2000);
  expect(unavailable).toBeGreaterThan(0);
}, 30_000);
