/**
 * Generated error classes (test/codegen/golden/all/expected): a readable
 * default message built from the error's name, fields and doc comment, an
 * explicit message kept as given, and `XType.is` recognising the error by
 * code (the compile-time narrowing is in test/examples/kv-types.ts).
 */
import { describe, expect, test } from "bun:test";
import { RpcError, Status } from "../../src/rpc/status.ts";
import * as base from "./golden/all/expected/base.ts";
import * as all from "./golden/all/expected/main.ts";

describe("generated error classes", () => {
  test("default messages name the error and its fields", () => {
    expect(new all.NotFound({ key: "abc" }).message).toBe('NotFound: key="abc"');
    expect(new all.NotFound({ key: "abc", tried: ["x", "y"] }).message).toBe('NotFound: key="abc", tried=an array (length 2)');
    expect(new all.Unit().message).toBe("Unit");
    expect(new base.BaseFailure({ reason: "disk full" }).message).toBe('BaseFailure: reason="disk full"');
  });

  test("an explicit message is kept", () => {
    expect(new all.NotFound({ key: "abc" }, "no abc here").message).toBe("no abc here");
  });

  test("XType.is matches by code, also a plain object that crossed a Worker", () => {
    const e: unknown = new all.NotFound({ key: "k" });
    expect(all.NotFoundType.is(e)).toBe(true);
    expect(all.NotFoundType.is({ code: "test.all.NotFound", status: Status.NOT_FOUND, key: "k" })).toBe(true);
    expect(all.NotFoundType.is(new RpcError(Status.NOT_FOUND, "x"))).toBe(false);
    expect(all.NotFoundType.is(new all.Unit())).toBe(false);
    expect(all.NotFoundType.is(null)).toBe(false);
  });
});
