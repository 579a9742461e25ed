/**
 * A partial implementation, made explicit (schema evolution issue, point 5):
 * methods a binding lists in `unimplemented` answer UNIMPLEMENTED for unary
 * and streaming calls while the rest of the service and the connection keep
 * working; a method missing from the impl and not listed still stops the
 * server from starting, and so does a listed method that is implemented.
 */
import { expect, test } from "bun:test";
import { createChannel } from "../../src/rpc/client.ts";
import { createRpcServer } from "../../src/rpc/server.ts";
import { RpcError, Status } from "../../src/rpc/status.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { type Num, type Text, TestService } from "./helpers/fixtures.ts";
import { makeImpl, newProbe } from "./service-impl.ts";

function without(names: string[]): object {
  const impl: Record<string, unknown> = { ...makeImpl(newProbe()) };
  for (const n of names) delete impl[n];
  return impl;
}

describeDrivers("unimplemented methods", (d) => {
  test("listed methods answer UNIMPLEMENTED (unary and server stream); the others and the connection keep working", async () => {
    const rt = await d.make();
    try {
      const server = createRpcServer(rt, [{ descriptor: TestService, impl: without(["delay", "count"]), validate: true, unimplemented: ["delay", "count"] }]);
      const l = await rt.listen({ host: "127.0.0.1", port: 0 });
      const serving = server.serve(l);
      const ch = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: l.port }] });
      const unary = await ch.unary(TestService.methods.delay!, { n: 1 } as Num).then(
        () => null,
        (e: RpcError) => ({ status: e.status, message: e.message }),
      );
      let streamed: { status: number; message: string } | null = null;
      try {
        for await (const _ of ch.serverStream(TestService.methods.count!, { n: 3 } as Num)) streamed = null;
      } catch (e) {
        streamed = { status: (e as RpcError).status, message: (e as RpcError).message };
      }
      const echo = (await ch.unary(TestService.methods.echo!, { text: "still here" } as Text)) as Text;
      await ch.close();
      await server.shutdown(100);
      await l.close();
      await serving;
      expect(unary).toEqual({ status: Status.UNIMPLEMENTED, message: "method test.v1.Test/delay is not implemented by this server" });
      expect(streamed).toEqual({ status: Status.UNIMPLEMENTED, message: "method test.v1.Test/count is not implemented by this server" });
      expect(echo.text).toBe("still here");
    } finally {
      await rt.close();
    }
  });
});

test("a method missing from the impl and not listed, or listed and implemented, or listed and unknown, stops the server with a line that says what to do", async () => {
  const { createEpollRuntime } = await import("../../src/runtime/epoll/runtime.ts");
  const rt = createEpollRuntime();
  try {
    expect(() => createRpcServer(rt, [{ descriptor: TestService, impl: without(["delay"]), validate: true }])).toThrow(
      'service test.v1.Test has no handler for method delay: implement impl.delay, or list it to answer UNIMPLEMENTED (bind...(impl, { unimplemented: ["delay"] }))',
    );
    expect(() => createRpcServer(rt, [{ descriptor: TestService, impl: without([]), validate: true, unimplemented: ["delay"] }])).toThrow("method delay is listed as unimplemented but impl.delay is a function");
    expect(() => createRpcServer(rt, [{ descriptor: TestService, impl: without([]), validate: true, unimplemented: ["nope"] }])).toThrow("service test.v1.Test has no method nope to list as unimplemented");
  } finally {
    await rt.close();
  }
});
