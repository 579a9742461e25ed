/**
 * A REQUEST for a plain unary method (one-parameter handler, no deadline, no
 * metadata, uncompressed) is admitted by a short path (plainRequest); every
 * admission rule of the general path must still hold on it: a connection the
 * memory budget paused refuses it, an id that does not grow closes the
 * connection, a draining server refuses it after its GOAWAY, and the same
 * method with a deadline or metadata still answers. A plain REQUEST also
 * arms a fast path (a REQUEST with the same bytes from path to flags is
 * handled before its frame head is parsed), so each rule is checked again
 * after one: on a connection already warm, for a path that differs in one
 * byte, ids of every width, and a message that does not decode.
 * Over an in-memory connection, frame by frame.
 */
import { expect, test } from "bun:test";
import { Packr, unpack } from "msgpackr";
import { FrameDecoder } from "../../src/rpc/frame-decoder.ts";
import { DEFAULT_LIMITS, FrameType, GoAwayReason } from "../../src/rpc/protocol.ts";
import { createRpcServer, type RpcServer } from "../../src/rpc/server.ts";
import type { ServerConnection } from "../../src/rpc/server-connection.ts";
import { Status } from "../../src/rpc/status.ts";
import { type Text, TestService } from "./helpers/fixtures.ts";
import { until } from "./helpers/harness.ts";
import { type MemConn, memPair, memRuntime } from "./helpers/mem-conn.ts";
import { concatBytes, frameBytes, HELLO, rawFrame } from "./helpers/raw-peer.ts";
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

async function withPeer(body: (p: Peer) => Promise<void>, validate = true): Promise<void> {
  const impl = { ...makeImpl(newProbe()), echo: (req: Text): Text => ({ text: req.text.toUpperCase() }) };
  const server = createRpcServer(memRuntime(), [{ descriptor: TestService, impl, validate }]);
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

test("a connection the memory budget paused refuses it with RESOURCE_EXHAUSTED memory_budget, and serves it again once resumed (cold, then warm)", async () => {
  await withPeer(async (p) => {
    const refusedWhilePaused = async (id: number) => {
      p.connection().budgetPaused = true;
      await p.send([FrameType.REQUEST, id, ECHO, null, null, UNARY, ["a"]]);
      expect(await until(() => answerTo(p.got, id) !== undefined, 1000)).toBe(true);
      const refused = answerTo(p.got, id)!;
      expect([refused[0], refused[2]]).toEqual([FrameType.STATUS, Status.RESOURCE_EXHAUSTED]);
      expect(String(refused[3])).toContain("memory budget");
      p.connection().budgetPaused = false;
      await p.send([FrameType.REQUEST, id + 1, ECHO, null, null, UNARY, ["b"]]);
      expect(await until(() => answerTo(p.got, id + 1) !== undefined, 1000)).toBe(true);
      expect(answerTo(p.got, id + 1)).toEqual([FrameType.RESPONSE, id + 1, ["B"]]);
    };
    await refusedWhilePaused(1);
    // Call 2 armed the fast path with these very bytes: the pause must still refuse them.
    await refusedWhilePaused(3);
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

for (const warm of [false, true])
  test(`a draining server answers GOAWAY, then UNAVAILABLE (${warm ? "after a plain call armed the fast path" : "first call"})`, async () => {
    await withPeer(async (p) => {
      const id = warm ? 2 : 1;
      if (warm) {
        await p.send([FrameType.REQUEST, 1, ECHO, null, null, UNARY, ["a"]]);
        expect(await until(() => answerTo(p.got, 1) !== undefined, 1000)).toBe(true);
        expect(answerTo(p.got, 1)).toEqual([FrameType.RESPONSE, 1, ["A"]]);
      }
      (p.server as unknown as { draining: boolean }).draining = true;
      await p.send([FrameType.REQUEST, id, ECHO, null, null, UNARY, ["a"]]);
      expect(await until(() => answerTo(p.got, id) !== undefined, 1000)).toBe(true);
      const goAwayAt = p.got.findIndex((f) => f[0] === FrameType.GOAWAY);
      const statusAt = p.got.findIndex((f) => f[0] === FrameType.STATUS && f[1] === id);
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

test("after the fast path is armed: a path one byte off and an expired deadline each take the full parse", async () => {
  await withPeer(async (p) => {
    await p.send([FrameType.REQUEST, 1, ECHO, null, null, UNARY, ["a"]]);
    // Same length as ECHO, differing in its last byte (the compare's last word) and in its first.
    await p.send([FrameType.REQUEST, 2, "test.v1.Test/echX", null, null, UNARY, ["b"]]);
    await p.send([FrameType.REQUEST, 3, "uest.v1.Test/echo", null, null, UNARY, ["c"]]);
    await p.send([FrameType.REQUEST, 4, ECHO, 0, null, UNARY, ["d"]]);
    await p.send([FrameType.REQUEST, 5, ECHO, null, null, UNARY, ["e"]]);
    expect(await until(() => [1, 2, 3, 4, 5].every((id) => answerTo(p.got, id) !== undefined), 1000)).toBe(true);
    const [a, b, c, d, e] = [1, 2, 3, 4, 5].map((id) => answerTo(p.got, id)!) as [unknown[], unknown[], unknown[], unknown[], unknown[]];
    expect(a).toEqual([FrameType.RESPONSE, 1, ["A"]]);
    expect([b[0], b[2], c[0], c[2]]).toEqual([FrameType.STATUS, Status.UNIMPLEMENTED, FrameType.STATUS, Status.UNIMPLEMENTED]);
    expect(String(b[3])).toContain("test.v1.Test/echX");
    expect([d[0], d[2]]).toEqual([FrameType.STATUS, Status.DEADLINE_EXCEEDED]);
    expect(e).toEqual([FrameType.RESPONSE, 5, ["E"]]);
  });
});

test("after the fast path is armed, ids written as u8, u16 and u32 are answered under their own ids; one that does not grow still closes the connection", async () => {
  await withPeer(async (p) => {
    const ids = [1, 200, 300, 65535, 70000, 0xfffffffe];
    for (const id of ids) await p.send([FrameType.REQUEST, id, ECHO, null, null, UNARY, [`x${id}`]]);
    expect(await until(() => ids.every((id) => answerTo(p.got, id) !== undefined), 1000)).toBe(true);
    expect(ids.map((id) => answerTo(p.got, id))).toEqual(ids.map((id) => [FrameType.RESPONSE, id, [`X${id}`]]));
    await p.send([FrameType.REQUEST, 70001, ECHO, null, null, UNARY, ["late"]]);
    expect(await until(() => p.got.some((f) => f[0] === FrameType.GOAWAY), 1000)).toBe(true);
    const goAway = p.got.find((f) => f[0] === FrameType.GOAWAY)!;
    expect([goAway[2], goAway[3]]).toEqual([0xfffffffe, GoAwayReason.PROTOCOL_ERROR]);
    expect(String(goAway[4])).toContain(`not greater than the previous id ${0xfffffffe}`);
    expect(answerTo(p.got, 70001)).toBeUndefined();
  });
});

const packr = new Packr({ useRecords: false, variableMapSize: true });

for (const validate of [true, false])
  test(`a message that does not decode, or bytes after it, get the same INVALID_ARGUMENT on the fast path as on a first call (validate: ${validate})`, async () => {
    const bad = {
      // A Text whose text is a number.
      undecodable: (id: number) => frameBytes([FrameType.REQUEST, id, ECHO, null, null, UNARY, [42]]),
      // The REQUEST's bytes with one more byte inside the frame, after the message.
      trailing: (id: number) => rawFrame(concatBytes(packr.pack([FrameType.REQUEST, id, ECHO, null, null, UNARY, ["a"]]), new Uint8Array([0xc0]))),
    };
    /** The answer to one bad REQUEST, first on its connection or after a good one armed the fast path; then a good call still works. */
    const answer = async (frame: (id: number) => Uint8Array, warm: boolean): Promise<unknown[]> => {
      let out: unknown[] = [];
      await withPeer(async (p) => {
        const id = warm ? 2 : 1;
        if (warm) await p.send([FrameType.REQUEST, 1, ECHO, null, null, UNARY, ["a"]]);
        await p.client.writeAll(frame(id));
        await p.send([FrameType.REQUEST, id + 1, ECHO, null, null, UNARY, ["z"]]);
        expect(await until(() => answerTo(p.got, id + 1) !== undefined, 1000)).toBe(true);
        expect(answerTo(p.got, id + 1)).toEqual([FrameType.RESPONSE, id + 1, ["Z"]]);
        out = answerTo(p.got, id)!.filter((_, k) => k !== 1);
      }, validate);
      return out;
    };
    const undecodable = await answer(bad.undecodable, false);
    expect(undecodable.slice(0, 2)).toEqual([FrameType.STATUS, Status.INVALID_ARGUMENT]);
    expect(String(undecodable[2])).toContain("could not decode test.v1.Text: field text");
    expect(await answer(bad.undecodable, true)).toEqual(undecodable);
    const trailing = await answer(bad.trailing, false);
    expect(trailing.slice(0, 2)).toEqual([FrameType.STATUS, Status.INVALID_ARGUMENT]);
    expect(String(trailing[2])).toContain("has 1 trailing bytes");
    expect(await answer(bad.trailing, true)).toEqual(trailing);
  });
