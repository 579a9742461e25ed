/**
 * A value that does not fit its IDL type, end to end over 127.0.0.1 with the
 * code generated from test/rpc/fixtures/shop.ridl (the shapes of a new
 * user's report): a handler's bad response is INTERNAL for the client with
 * the message, the field path and the value, and exactly one server log line;
 * a bad response stream message names its index; a bad request fails locally
 * with INVALID_ARGUMENT and is never sent; a bad request stream message
 * cancels the call with INVALID_ARGUMENT; typed errors carry a readable
 * default message and a field that does not encode degrades to INTERNAL
 * naming it. The connection keeps serving after each.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { generate } from "../../codegen/index.ts";
import { compile } from "../../idl/index.ts";
import { type Channel, createChannel } from "../../src/rpc/client.ts";
import type { CallContext, CallInvoker, ErrorType, ServiceBinding } from "../../src/rpc/descriptor.ts";
import { createRpcServer, type RpcServer } from "../../src/rpc/server.ts";
import { type RpcError, Status } from "../../src/rpc/status.ts";
import { createEpollRuntime } from "../../src/runtime/epoll/runtime.ts";
import type { Listener, Runtime } from "../../src/runtime/types.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";
import { caught } from "./helpers/caught.ts";
import { recordInto } from "./helpers/harness.ts";

interface Item {
  sku: string;
  qty: number;
  note?: string | undefined;
}
interface GetItemReply {
  item: Item;
  note: string;
}
interface ItemNotFound extends RpcError {
  readonly sku: string;
}
interface ShopClient {
  getItem(req: { sku: string }): Promise<GetItemReply>;
  listItems(req: { sku: string }): AsyncIterable<Item>;
  putItems(reqs: Iterable<Item>): Promise<GetItemReply>;
}
interface ShopModule {
  bindShop(impl: object): ServiceBinding;
  ShopClient: new (invoker: CallInvoker) => ShopClient;
  ItemNotFound: new (fields: { sku: string }, message?: string) => ItemNotFound;
  ItemNotFoundType: ErrorType<ItemNotFound>;
}

const root = resolve(import.meta.dir, "../..");
/** Where the server logs (a handler failure is one handler_failed event). */
const serverLog = recordingLogger();
const good: Item = { sku: "a1", qty: 2 };
let dir = "";
let shop: ShopModule;
let rt: Runtime;
let server: RpcServer;
let listener: Listener;
let serving: Promise<void>;
let channel: Channel;
let client: ShopClient;
const serveErrors: string[] = [];
/** What the handlers saw: calls of getItem, items putItems received, whether generators were closed. */
const seen = { getItem: 0, put: [] as Item[], putAborted: false, listClosed: false };

/** What a handler returns, keyed by the request's sku. */
const replies: Record<string, unknown> = {
  ok: { item: good, note: "" },
  "no-note": { item: good },
  "negative-qty": { item: { sku: "a1", qty: -5 }, note: "" },
  undefined: undefined,
};

beforeAll(async () => {
  const compiled = compile([join(import.meta.dir, "fixtures/shop.ridl")]);
  if (compiled.model === null) throw new Error(`shop.ridl did not compile: ${JSON.stringify(compiled.diagnostics)}`);
  dir = mkdtempSync(join(tmpdir(), "ringrpc-shop-"));
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  for (const f of generate(compiled.model, { version: "0.0.0-test", runtime: join(root, "src") })) writeFileSync(join(dir, f.path), f.content);
  shop = (await import(join(dir, "shop.ts"))) as ShopModule;
  rt = createEpollRuntime();
  server = createRpcServer(rt, [
    shop.bindShop({
      getItem(req: { sku: string }) {
        seen.getItem++;
        if (req.sku === "missing") throw new shop.ItemNotFound({ sku: "abc" });
        if (req.sku === "bad-error") throw new shop.ItemNotFound({ sku: 5 as unknown as string });
        return replies[req.sku];
      },
      async *listItems() {
        try {
          yield good;
          yield { sku: "b2", qty: 3 };
          yield { sku: 7, qty: 1 };
          yield good;
        } finally {
          seen.listClosed = true;
        }
      },
      async putItems(reqs: AsyncIterable<Item>, ctx: CallContext) {
        ctx.signal.addEventListener("abort", () => {
          seen.putAborted = true;
        });
        for await (const item of reqs) seen.put.push(item);
        return { item: good, note: `${seen.put.length}` };
      },
    }),
  ], { logger: serverLog });
  listener = await rt.listen({ host: "127.0.0.1", port: 0, reusePort: false });
  serving = server.serve(listener).catch(recordInto(serveErrors, "serve"));
  channel = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: listener.port }] });
  client = new shop.ShopClient(channel);
});

afterAll(async () => {
  await channel.close();
  await server.shutdown(50);
  await listener.close();
  await serving;
  await rt.close();
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
  expect(serveErrors).toEqual([]);
});

/** Runs `body`; returns the messages of the handler failures the server logged meanwhile. */
async function logged(body: () => Promise<void>): Promise<string[]> {
  const from = serverLog.events.length;
  await body();
  return serverLog.events.slice(from).filter((e) => e.fields.event === "handler_failed").map((e) => (e.fields.err as Error).message);
}

describe("a handler's response that does not fit the IDL", () => {
  const cases: Array<[string, string]> = [
    ["no-note", "GetItemReply.note: required field is missing (expected string)"],
    ["negative-qty", "GetItemReply.item.qty: expected u32 (an integer in [0, 2^32-1]), got -5"],
    ["undefined", "GetItemReply: expected an object (shop.v1.GetItemReply), got undefined"],
  ];
  test.each(cases)("%s: INTERNAL with the path for the client, one server log line", async (sku, problem) => {
    let err: RpcError | null = null;
    const lines = await logged(async () => {
      err = await caught(client.getItem({ sku }));
    });
    const message = `could not encode response shop.v1.GetItemReply of shop.v1.Shop/getItem: ${problem}`;
    expect(err!.status).toBe(Status.INTERNAL);
    expect(err!.message).toBe(message);
    expect(lines).toEqual([message]);
    expect(await client.getItem({ sku: "ok" })).toEqual({ item: { ...good, note: undefined }, note: "" });
  });

  test("a response stream message names its index; the messages before it arrive and the generator is closed", async () => {
    const got: string[] = [];
    let err: RpcError | null = null;
    const lines = await logged(async () => {
      try {
        for await (const item of client.listItems({ sku: "" })) got.push(item.sku);
      } catch (e) {
        err = e as RpcError;
      }
    });
    const message = "could not encode response stream message at index 2 (shop.v1.Item) of shop.v1.Shop/listItems: Item.sku: expected string, got 7";
    expect(got).toEqual(["a1", "b2"]);
    expect(err!.status).toBe(Status.INTERNAL);
    expect(err!.message).toBe(message);
    expect(lines).toEqual([message]);
    expect(seen.listClosed).toBe(true);
  });
});

describe("a request that does not fit the IDL", () => {
  test("fails locally with INVALID_ARGUMENT and is never sent", async () => {
    const before = { calls: server.stats().totalCalls, handled: seen.getItem };
    const err = await caught(client.getItem({ sku: 7 as unknown as string }));
    expect(err.status).toBe(Status.INVALID_ARGUMENT);
    expect(err.message).toBe("could not encode request shop.v1.GetItemRequest of shop.v1.Shop/getItem: GetItemRequest.sku: expected string, got 7");
    expect(await client.getItem({ sku: "ok" })).toEqual({ item: { ...good, note: undefined }, note: "" });
    // Only the good call reached the server.
    expect({ calls: server.stats().totalCalls - before.calls, handled: seen.getItem - before.handled }).toEqual({ calls: 1, handled: 1 });
  });

  test("a request stream message cancels the call with INVALID_ARGUMENT naming its index", async () => {
    seen.put = [];
    const err = await caught(client.putItems([good, { sku: "b", qty: -1 }, good]));
    expect(err.status).toBe(Status.INVALID_ARGUMENT);
    expect(err.message).toBe("could not encode request stream message at index 1 (shop.v1.Item) of shop.v1.Shop/putItems: Item.qty: expected u32 (an integer in [0, 2^32-1]), got -1");
    for (let i = 0; i < 100 && !seen.putAborted; i++) await Bun.sleep(5);
    expect(seen.putAborted).toBe(true);
    expect(seen.put).toEqual([{ ...good, note: undefined }]);
  });
});

describe("typed errors", () => {
  test("carry a readable default message and narrow with XType.is", async () => {
    const e: unknown = await caught(client.getItem({ sku: "missing" }));
    expect(shop.ItemNotFoundType.is(e)).toBe(true);
    if (!shop.ItemNotFoundType.is(e)) return;
    expect([e.status, e.code, e.sku, e.message]).toEqual([Status.NOT_FOUND, "shop.v1.ItemNotFound", "abc", 'ItemNotFound: sku="abc"']);
    expect(shop.ItemNotFoundType.is(new Error("x"))).toBe(false);
  });

  test("a field that does not encode degrades to INTERNAL naming the field", async () => {
    const err = await caught(client.getItem({ sku: "bad-error" }));
    expect(err.status).toBe(Status.INTERNAL);
    expect(err.message).toBe("could not encode error shop.v1.ItemNotFound: ItemNotFound.sku: expected string, got 5");
  });
});
