/**
 * The codegen <-> RPC contract end to end: compiles test/rpc/fixtures/kv.ridl
 * with the real IDL front end and generator (into a temporary directory),
 * then serves and calls the generated service over 127.0.0.1 with all four
 * call kinds, a typed error and the IDL's default deadline.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { generate } from "../../codegen/index.ts";
import { compile } from "../../idl/index.ts";
import { createChannel } from "../../src/rpc/client.ts";
import type { CallInvoker, CallOptions, ServiceBinding } from "../../src/rpc/descriptor.ts";
import { createRpcServer } from "../../src/rpc/server.ts";
import { Status } from "../../src/rpc/status.ts";
import { createEpollRuntime } from "../../src/runtime/epoll/runtime.ts";
import { recordInto } from "./helpers/harness.ts";

interface Entry {
  key: string;
  value: Uint8Array;
  version?: bigint | undefined;
}
interface GetReply {
  entry?: Entry | undefined;
}
interface KvClient {
  get(req: { key: string }, opts?: CallOptions): Promise<GetReply>;
  watch(req: { key: string }, opts?: CallOptions): AsyncIterable<GetReply>;
  upload(reqs: Iterable<{ key: string }>, opts?: CallOptions): Promise<GetReply>;
  chat(reqs: Iterable<{ key: string }>, opts?: CallOptions): AsyncIterable<GetReply>;
}
interface KvModule {
  bindKeyValue(impl: object): ServiceBinding;
  KeyValueClient: new (invoker: CallInvoker) => KvClient;
  KeyNotFound: new (fields: { key: string }, message?: string) => Error;
}

const root = resolve(import.meta.dir, "../..");
let dir = "";
let kv: KvModule;

beforeAll(async () => {
  const compiled = compile([join(import.meta.dir, "fixtures/kv.ridl")]);
  if (compiled.model === null) throw new Error(`kv.ridl did not compile: ${JSON.stringify(compiled.diagnostics)}`);
  const files = generate(compiled.model, { version: "0.0.0-test", runtime: join(root, "src") });
  dir = mkdtempSync(join(tmpdir(), "ringrpc-gen-"));
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  for (const f of files) writeFileSync(join(dir, f.path), f.content);
  kv = (await import(join(dir, "kv.ts"))) as KvModule;
});

afterAll(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

describe("generated service over the RPC layer", () => {
  test("all call kinds, a typed error and the IDL deadline", async () => {
    const rt = createEpollRuntime();
    try {
      const store = new Map([["a", new Uint8Array([1, 2])]]);
      const server = createRpcServer(rt, [
        kv.bindKeyValue({
          get(req: { key: string }, ctx: { signal: AbortSignal }) {
            if (req.key === "slow") return new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
            const v = store.get(req.key);
            if (v === undefined) throw new kv.KeyNotFound({ key: req.key }, `no key ${req.key}`);
            return { entry: { key: req.key, value: v } };
          },
          async *watch(req: { key: string }) {
            for (let i = 0; i < 3; i++) yield { entry: { key: `${req.key}${i}`, value: new Uint8Array([i]) } };
          },
          async upload(reqs: AsyncIterable<{ key: string }>) {
            let k = "";
            for await (const r of reqs) k += r.key;
            return { entry: { key: k, value: new Uint8Array() } };
          },
          async *chat(reqs: AsyncIterable<{ key: string }>) {
            for await (const r of reqs) yield { entry: { key: r.key.toUpperCase(), value: new Uint8Array() } };
          },
        }),
      ]);
      const listener = await rt.listen({ host: "127.0.0.1", port: 0, reusePort: false });
      const serveErrors: string[] = [];
      const serving = server.serve(listener).catch(recordInto(serveErrors, "serve"));
      const ch = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: listener.port }] });
      const c = new kv.KeyValueClient(ch);

      const got = await c.get({ key: "a" });
      expect(got.entry?.key).toBe("a");
      expect(got.entry?.value).toEqual(new Uint8Array([1, 2]));

      const err = (await c.get({ key: "zz" }).catch((e: unknown) => e)) as { code: string; status: number; key: string; message: string };
      expect(err).toBeInstanceOf(kv.KeyNotFound);
      expect(err.code).toBe("kv.v1.KeyNotFound");
      expect(err.status).toBe(Status.NOT_FOUND);
      expect(err.key).toBe("zz");
      expect(err.message).toBe("no key zz");

      const keys: string[] = [];
      for await (const m of c.watch({ key: "w" })) keys.push(m.entry!.key);
      expect(keys).toEqual(["w0", "w1", "w2"]);
      expect((await c.upload([{ key: "x" }, { key: "y" }])).entry?.key).toBe("xy");
      const upper: string[] = [];
      for await (const m of c.chat([{ key: "p" }, { key: "q" }])) upper.push(m.entry!.key);
      expect(upper).toEqual(["P", "Q"]);

      const t0 = Date.now();
      const late = (await c.get({ key: "slow" }).catch((e: unknown) => e)) as { status: number };
      expect(late.status).toBe(Status.DEADLINE_EXCEEDED);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(450); // the IDL says deadline = 500ms
      expect(Date.now() - t0).toBeLessThan(600); // measured 500-504 ms over 5 runs, 2026-12-06

      await ch.close();
      await server.shutdown(50);
      await listener.close();
      await serving;
      expect(serveErrors).toEqual([]);
    } finally {
      await rt.close();
    }
  });
});
