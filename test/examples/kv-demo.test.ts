/**
 * The README's demo, step by step: the kv server on 2 workers and the kv
 * client's whole script (puts, gets, typed errors, watch, a cancelled call,
 * client and bidi streams, throughput), asserting what each step printed.
 */
import { expect, test } from "bun:test";
import { runKvDemo } from "../../examples/kv/client.ts";
import { startServer } from "../helpers/server-process.ts";

test("kv demo: every step does what it says", async () => {
  const server = await startServer("examples/kv/server.ts", ["--port", "0", "--workers", "2"]);
  const lines: string[] = [];
  try {
    await runKvDemo({ host: server.host, port: server.port, seconds: 1, log: (l) => lines.push(l) });
  } finally {
    expect(await server.stop()).toBe(0);
  }
  expect(lines.slice(0, 3)).toEqual(["put user:1=ann -> version 1", "put user:2=bob -> version 1", "put user:3=cy -> version 1"]);
  expect(lines[3]).toMatch(/^get user:2 -> "bob" \(version 1, updated \d{4}-\d\d-\d\dT/);
  expect(lines[4]).toBe('get user:404 -> typed error kv.v1.KeyNotFound (status 5): no key "user:404"');
  expect(lines[5]).toBe('compare-and-set with version 7 -> typed error kv.v1.VersionMismatch (status 10): "user:1" is at version 1');
  expect(lines[6]).toBe("watch user: -> user:4@1, user:1@2 then break (the server's stream is cancelled)");
  expect(lines[7]).toMatch(/^cancelled watch -> CANCELLED \(status 1\): .* after \d+ ms$/);
  expect(lines[8]).toBe("upload (client stream, 2 chunks) -> 3 entries stored");
  expect(lines[9]).toBe('chat (bidi) -> "ann said: hi", "bob said: yo"');
  const m = lines[10]?.match(/^throughput: ([\d,]+) gets\/s .* \(errors: (\d+)\)$/);
  expect(m).not.toBeNull();
  expect(Number(m![1]!.replaceAll(",", ""))).toBeGreaterThan(0);
  expect(m![2]).toBe("0");
}, 30_000);
