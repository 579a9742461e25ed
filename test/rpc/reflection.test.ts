/**
 * The reflection service (src/services/reflection.ts) over 127.0.0.1 with
 * its generated client: it lists every bound service with its methods and
 * kinds (itself included), serves the .ridl files a generated descriptor
 * carries exactly as they are on disk (and they compile to a model that
 * declares the service), and refuses an unknown service and a hand-written
 * descriptor with their typed errors. Also the composition serve() uses
 * (src/services/builtin.ts): which services it adds and when.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { compile } from "../../idl/index.ts";
import { Status } from "../../src/rpc/status.ts";
import { withBuiltinServices } from "../../src/services/builtin.ts";
import { Health } from "../../src/services/gen/health.ts";
import { CallKind, Reflection, ReflectionClient } from "../../src/services/gen/reflection.ts";
import { HealthService } from "../../src/services/health.ts";
import { reflectionBinding } from "../../src/services/reflection.ts";
import { caught } from "./helpers/caught.ts";
import { drivers } from "./helpers/drivers.ts";
import { withServer } from "./helpers/harness.ts";
import { TestService } from "./helpers/fixtures.ts";
import { makeImpl, newProbe } from "./service-impl.ts";

const ROOT = join(import.meta.dir, "..", "..");
const epoll = drivers[0]!;
const timeoutMs = 2000;

describe("ringrpc.reflection.v1.Reflection", () => {
  test("listServices names every bound service, its methods and their kinds, itself included", async () => {
    const health = new HealthService([TestService.name]);
    const bound = [{ descriptor: TestService, impl: {}, validate: true }, health.binding()];
    await withServer(epoll, makeImpl(newProbe()), {}, async (h) => {
      const { services } = await new ReflectionClient(h.channel()).listServices({}, { timeoutMs });
      expect(services.map((s) => [s.name, s.has_idl])).toEqual([
        ["test.v1.Test", false],
        ["ringrpc.health.v1.Health", true],
        ["ringrpc.reflection.v1.Reflection", true],
      ]);
      const test = services[0]!;
      expect(test.methods.map((m) => m.name)).toEqual(Object.keys(TestService.methods));
      expect(test.methods.find((m) => m.name === "count")).toEqual({ name: "count", kind: CallKind.SERVER_STREAM, input: "test.v1.Num", output: "test.v1.Num" });
      expect(test.methods.find((m) => m.name === "chat")?.kind).toBe(CallKind.BIDI);
      expect(services[2]!.methods.map((m) => `${m.name} ${m.kind} ${m.input} -> ${m.output}`)).toEqual([
        `listServices ${CallKind.UNARY} ringrpc.reflection.v1.ListServicesRequest -> ringrpc.reflection.v1.ListServicesReply`,
        `getIdl ${CallKind.UNARY} ringrpc.reflection.v1.GetIdlRequest -> ringrpc.reflection.v1.GetIdlReply`,
      ]);
    }, [health.binding(), reflectionBinding(bound)]);
  });

  test("getIdl returns the .ridl files as on disk, and they compile to the service", async () => {
    const health = new HealthService();
    await withServer(epoll, makeImpl(newProbe()), {}, async (h) => {
      const client = new ReflectionClient(h.channel());
      for (const [service, file] of [[Health.name, "health.ridl"], [Reflection.name, "reflection.ridl"]] as const) {
        const reply = await client.getIdl({ service }, { timeoutMs });
        expect(reply.service).toBe(service);
        expect(reply.file).toBe(file);
        expect(reply.files).toEqual([{ path: file, text: readFileSync(join(ROOT, "src/services", file), "utf8") }]);
        const texts = new Map(reply.files.map((f) => [f.path, f.text]));
        const { model } = compile([reply.file], { readFile: (p) => texts.get(p) });
        expect(model?.services.map((s) => s.qualifiedName)).toEqual([service]);
      }
    }, [health.binding(), reflectionBinding([{ descriptor: TestService, impl: {}, validate: true }, health.binding()])]);
  });

  test("getIdl: an unknown service is ServiceNotFound (NOT_FOUND), a hand-written descriptor IdlUnavailable", async () => {
    await withServer(epoll, makeImpl(newProbe()), {}, async (h) => {
      const client = new ReflectionClient(h.channel());
      const missing = await caught(client.getIdl({ service: "no.such.Service" }, { timeoutMs }));
      expect([missing.status, missing.code]).toEqual([Status.NOT_FOUND, "ringrpc.reflection.v1.ServiceNotFound"]);
      expect(missing.message).toBe('no service "no.such.Service" on this server (it serves test.v1.Test, ringrpc.reflection.v1.Reflection)');
      expect((missing as unknown as { service: string }).service).toBe("no.such.Service");
      const bare = await caught(client.getIdl({ service: "test.v1.Test" }, { timeoutMs }));
      expect([bare.status, bare.code]).toEqual([Status.FAILED_PRECONDITION, "ringrpc.reflection.v1.IdlUnavailable"]);
    }, [reflectionBinding([{ descriptor: TestService, impl: {}, validate: true }])]);
  });
});

describe("the built-in services serve() adds", () => {
  const user = [{ descriptor: TestService, impl: {}, validate: true }];
  const names = (bs: readonly { descriptor: { name: string } }[]) => bs.map((b) => b.descriptor.name);

  test("by default: health with every user service SERVING, then reflection", () => {
    const { bindings, health } = withBuiltinServices(user, {});
    expect(names(bindings)).toEqual(["test.v1.Test", "ringrpc.health.v1.Health", "ringrpc.reflection.v1.Reflection"]);
    expect(health?.status("test.v1.Test")).toBe(1);
    expect(health?.status("")).toBe(1);
  });

  test("reflection: false and health: false leave each out", () => {
    expect(names(withBuiltinServices(user, { reflection: false }).bindings)).toEqual(["test.v1.Test", "ringrpc.health.v1.Health"]);
    const noHealth = withBuiltinServices(user, { health: false });
    expect(names(noHealth.bindings)).toEqual(["test.v1.Test", "ringrpc.reflection.v1.Reflection"]);
    expect(noHealth.health).toBeNull();
  });

  test("a HealthService the user bound is the one kept and drained", () => {
    const mine = new HealthService(["custom"]);
    const { bindings, health } = withBuiltinServices([...user, mine.binding()], {});
    expect(health).toBe(mine);
    expect(names(bindings).filter((n) => n === "ringrpc.health.v1.Health")).toHaveLength(1);
  });
});
