/**
 * The CLI flag parser shared by the ringrpc command and the examples, and
 * the launcher's worker-count rule.
 */
import { describe, expect, test } from "bun:test";
import { intFlag, parseArgs } from "../../src/cli/args.ts";
import { resolveWorkerCount } from "../../src/runtime/launcher.ts";
import { availableParallelism } from "node:os";

const spec = { values: ["port", "out"], booleans: ["check"] };

describe("parseArgs", () => {
  test("values in both spellings, booleans and positionals", () => {
    const a = parseArgs(["a.ridl", "--port", "7000", "--out=gen", "--check", "b.ridl"], spec);
    expect(Object.fromEntries(a.flags)).toEqual({ port: "7000", out: "gen" });
    expect([...a.bools]).toEqual(["check"]);
    expect(a.positionals).toEqual(["a.ridl", "b.ridl"]);
  });

  test("an unknown flag and a missing value are usage errors that name the flag", () => {
    expect(() => parseArgs(["--prot", "1"], spec)).toThrow("unknown option --prot");
    expect(() => parseArgs(["--port"], spec)).toThrow("--port needs a value");
    let err: { name?: string; code?: string } | null = null;
    try {
      parseArgs(["--nope"], spec);
    } catch (e) {
      err = e as { name: string; code: string };
    }
    expect(err?.name).toBe("UsageError");
    expect(err?.code).toBe("USAGE");
  });

  test("repeated flags keep every value in order; one-letter aliases stand for long flags", () => {
    const a = parseArgs(["h:1", "-H", "a:1", "--header=b:2", "-d", "@f", "--idl", "x.ridl"], { values: ["data"], repeated: ["header", "idl"], short: { H: "header", d: "data" } });
    expect(a.lists.get("header")).toEqual(["a:1", "b:2"]);
    expect(a.lists.get("idl")).toEqual(["x.ridl"]);
    expect(a.flags.get("data")).toBe("@f");
    expect(a.positionals).toEqual(["h:1"]);
    expect(() => parseArgs(["-X", "1"], { short: { H: "header" }, repeated: ["header"] })).toThrow("unknown option -X");
    expect(parseArgs(["-X"], spec).positionals).toEqual(["-X"]);
  });

  test("intFlag: default when absent, range-checked when present", () => {
    expect(intFlag(parseArgs([], spec), "port", 7000, 0, 65535)).toBe(7000);
    expect(intFlag(parseArgs(["--port", "0"], spec), "port", 7000, 0, 65535)).toBe(0);
    expect(() => intFlag(parseArgs(["--port", "70000"], spec), "port", 7000, 0, 65535)).toThrow('--port must be an integer in [0, 65535] (got "70000")');
    expect(() => intFlag(parseArgs(["--port", "1.5"], spec), "port", 7000, 0, 65535)).toThrow('--port must be an integer in [0, 65535] (got "1.5")');
  });
});

describe("resolveWorkerCount", () => {
  test('"auto" and absent mean one per available CPU; numbers must be positive integers', () => {
    expect(resolveWorkerCount("auto")).toBe(availableParallelism());
    expect(resolveWorkerCount(undefined)).toBe(availableParallelism());
    expect(resolveWorkerCount(3)).toBe(3);
    expect(() => resolveWorkerCount(0)).toThrow('workers must be "auto" or a positive integer (got 0)');
    expect(() => resolveWorkerCount(1.5)).toThrow('workers must be "auto" or a positive integer (got 1.5)');
  });
});
