/**
 * A REQUEST for a plain unary method (one-parameter handler, no deadline, no
 * metadata, uncompressed) is admitted by a short path (plainRequest); every
 * admission rule of the general path must still hold on it: a connection the
 * memory budget paused refuses it, an id that does not grow closes the
 * connection, a draining server refuses it after its GOAWAY, and the same
 * method with a deadline or metadata still answers. Over an in-memory
 * connection, frame by frame.
 */
import { expect, test } from "bun:test";
import { unpack } from "msgpackr";
import { FrameDecoder } from "../../src/rpc/frame-decoder.ts";
import { DEFAULT_LIMITS, FrameType, GoAwayReason } from "../../src/rpc/protocol.ts";
import { createRpcServer, type RpcServer } from "../../src/rpc/server.ts";
import type { ServerConnection } from "../../src/rpc/server-connection.ts";
import { Status } from "../../src/rpc/status.ts";
import { type Text, TestService } from "./helpers/fixtures.ts";
import { until } from "./helpers/harness.ts";
import { type MemConn, memPair, memRuntime } from "./helpers/mem-conn.ts";
import { frameBytes, HELLO } from "./helpers/raw-peer.ts";
import { makeImpl, newProbe } from "./service-impl.ts";

const ECHO = "test.v1.Test/echo";
/** REQUEST flags: unary declared, END_STREAM. */
const UNARY = (1 << 1) | 1;

interface Peer {
  server: RpcServer;
  client: MemConn;
  got: unknown[][];
  connection: () => ServerConnection;
  send: (frame: unknown[]) => Promise<void>;
}

async function withPeer(body: (p: Peer) => Promise<void>): Promise<void> {
  const impl = { ...makeImpl(newProbe()), echo: (req: Text): Text => ({ text: req.text.toUpperCase() }) };
  const server = createRpcServer(memRuntime(), [{ descriptor: TestService, impl, validate: true }]);
  const [client, serverSide] = memPair();
  const got: unknown[][] = [];
  const d = new FrameDecoder(DEFAULT_LIMITS.maxFrameBytes);
  client.stream({ data: (c) => void d.push(c, (b, s, e) => got.push(unpack(b.subarray(s, e)) as unknown[])), end: () => {} });
  server.handle(serverSide);
  const connection = () => [...(server as unknown as { connections: Set<ServerConnection> }).connections][0]!;
  const send = async (frame: unknown[]) => void (await client.writeAll(frameBytes(frame)));
  await send(HELLO);
  try {
    await body({ server, client, got, connection, send });
  } finally {
    await server.shutdown(10);
  }
}

const answerTo = (got: unknown[][], id: number) => got.find((f) => f[1] === id && (f[0] === FrameType.RESPONSE || f[0] === FrameType.STATUS));

test("the method takes the short path: it is plain", async () => {
  await withPeer(async (p) => {
    await p.send([FrameType.REQUEST, 1, ECHO, null, null, UNARY, ["a"]]);
    expect(await until(() => answerTo(p.got, 1) !== undefined, 1000)).toBe(true);
    expect(answerTo(p.got, 1)).toEqual([FrameType.RESPONSE, 1, ["A"]]);
    expect((p.server as unknown as { lookup(path: string): { plain: unknown } }).lookup(ECHO).plain).not.toBeNull();
  });
});

test("a connection the memory budget paused refuses it with RESOURCE_EXHAUSTED memory_budget, and serves it again once resumed", async () => {
  await withPeer(async (p) => {
    p.connection().budgetPaused = true;
    await p.send([FrameType.REQUEST, 1, ECHO, null, null, UNARY, ["a"]]);
    expect(await until(() => answerTo(p.got, 1) !== undefined, 1000)).toBe(true);
    const refused = answerTo(p.got, 1)!;
    expect([refused[0], refused[2]]).toEqual([FrameType.STATUS, Status.RESOURCE_EXHAUSTED]);
    expect(String(refused[3])).toContain("memory budget");
    p.connection().budgetPaused = false;
    await p.send([FrameType.REQUEST, 2, ECHO, null, null, UNARY, ["b"]]);
    expect(await until(() => answerTo(p.got, 2) !== undefined, 1000)).toBe(true);
    expect(answerTo(p.got, 2)).toEqual([FrameType.RESPONSE, 2, ["B"]]);
  });
});

test("an id that does not grow closes the connection with PROTOCOL_ERROR", async () => {
  await withPeer(async (p) => {
    await p.send([FrameType.REQUEST, 5, ECHO, null, null, UNARY, ["a"]]);
    await p.send([FrameType.REQUEST, 5, ECHO, null, null, UNARY, ["b"]]);
    expect(await until(() => p.got.some((f) => f[0] === FrameType.GOAWAY), 1000)).toBe(true);
    const goAway = p.got.find((f) => f[0] === FrameType.GOAWAY)!;
    // GOAWAY [type, 0, lastId, reason, message]
    expect([goAway[2], goAway[3]]).toEqual([5, GoAwayReason.PROTOCOL_ERROR]);
    expect(String(goAway[4])).toContain("not greater than the previous id 5");
  });
});

test("a draining server answers GOAWAY, then UNAVAILABLE", async () => {
  await withPeer(async (p) => {
    (p.server as unknown as { draining: boolean }).draining = true;
    await p.send([FrameType.REQUEST, 1, ECHO, null, null, UNARY, ["a"]]);
    expect(await until(() => answerTo(p.got, 1) !== undefined, 1000)).toBe(true);
    const goAwayAt = p.got.findIndex((f) => f[0] === FrameType.GOAWAY);
    const statusAt = p.got.findIndex((f) => f[0] === FrameType.STATUS && f[1] === 1);
    expect(goAwayAt).toBeGreaterThanOrEqual(0);
    expect(goAwayAt).toBeLessThan(statusAt);
    expect(p.got[statusAt]![2]).toBe(Status.UNAVAILABLE);
  });
});

test("the same method with a deadline, with metadata or with an undeclared kind is answered the same", async () => {
  await withPeer(async (p) => {
    await p.send([FrameType.REQUEST, 1, ECHO, 5000, null, UNARY, ["a"]]);
    await p.send([FrameType.REQUEST, 2, ECHO, null, { "x-k": "v" }, UNARY, ["b"]]);
    await p.send([FrameType.REQUEST, 3, ECHO, null, null, 1, ["c"]]);
    expect(await until(() => [1, 2, 3].every((id) => answerTo(p.got, id) !== undefined), 1000)).toBe(true);
    expect([1, 2, 3].map((id) => answerTo(p.got, id))).toEqual([
      [FrameType.RESPONSE, 1, ["A"]],
      [FrameType.RESPONSE, 2, ["B"]],
      [FrameType.RESPONSE, 3, ["C"]],
    ]);
  });
});
