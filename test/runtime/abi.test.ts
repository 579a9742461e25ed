/**
 * The native ABI has one source, native/include/ringrpc.h; abi.ts mirrors
 * it by name. This test reads every RR_* constant of the header (#defines
 * and enum members) and checks both directions: each constant abi.ts exports
 * has the header's value, and each constant of a mirrored group in the
 * header exists in abi.ts. A drift fails here, not at the first FFI call.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import * as abi from "../../src/runtime/uring/abi.ts";

const header = readFileSync(new URL("../../native/include/ringrpc.h", import.meta.url), "utf8");

/** RR_* name -> value, from `#define RR_X n` and `RR_X = n` enum members (int32 view, as JS reads the words). */
function headerConstants(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "");
  for (const m of code.matchAll(/#define\s+(RR_\w+)\s+(0x[0-9A-Fa-f]+|\d+)u?\b/g)) out.set(m[1]!, Number(m[2]) | 0);
  for (const m of code.matchAll(/\b(RR_\w+)\s*=\s*(0x[0-9A-Fa-f]+|\d+)u?\s*[,}\n]/g)) out.set(m[1]!, Number(m[2]) | 0);
  return out;
}

/** abi.ts group -> the header's prefix (keys upper-cased). */
const groups: Record<string, string> = { Op: "RR_OP_", Mem: "RR_MEM_", Feature: "RR_FEAT_", ProbeBit: "RR_PROBE_", Stat: "RR_STAT_", RingModeCode: "RR_RING_" };
/** abi.ts scalars that are not in the header, and why. */
const tsOnly: Record<string, string> = { UD_NONE: "a user_data above every slot for commands that complete no slot; the shim never sees it as special" };
/** Header constants with no TS twin, and why. */
const cOnly = new Set(["RR_OP__COUNT", "RR_STAT__COUNT"]);

const constants = headerConstants(header);

test("the header parses into the ABI's constants", () => {
  expect(constants.get("RR_CMD_WORDS")).toBe(8);
  expect(constants.get("RR_OP_SHUTDOWN")).toBe(10);
  expect(constants.get("RR_UD_INTERNAL")).toBe(-1);
  expect(constants.size).toBeGreaterThan(50);
});

test("every constant abi.ts exports has the header's value", () => {
  const mismatches: string[] = [];
  for (const [name, value] of Object.entries(abi)) {
    if (typeof value === "number") {
      if (name in tsOnly) continue;
      const c = constants.get(`RR_${name}`);
      if (c !== value) mismatches.push(`${name} = ${value}, header RR_${name} = ${c}`);
    } else if (typeof value === "object" && value !== null) {
      const prefix = groups[name];
      if (prefix === undefined) {
        mismatches.push(`${name}: a group abi.ts exports but this test does not map to a header prefix`);
        continue;
      }
      for (const [key, v] of Object.entries(value as Record<string, number>)) {
        const c = constants.get(`${prefix}${key.toUpperCase()}`);
        if (c !== v) mismatches.push(`${name}.${key} = ${v}, header ${prefix}${key.toUpperCase()} = ${c}`);
      }
    }
  }
  expect(mismatches).toEqual([]);
});

test("every constant of a mirrored header group exists in abi.ts", () => {
  const missing: string[] = [];
  for (const [cname, value] of constants) {
    if (cOnly.has(cname)) continue;
    const group = Object.entries(groups).find(([, prefix]) => cname.startsWith(prefix));
    if (group !== undefined) {
      const key = Object.keys((abi as Record<string, unknown>)[group[0]] as object).find((k) => k.toUpperCase() === cname.slice(group[1].length));
      if (key === undefined) missing.push(`${cname} = ${value}: no ${group[0]} entry`);
    } else if (!(cname.slice(3) in abi)) {
      missing.push(`${cname} = ${value}: no export ${cname.slice(3)}`);
    }
  }
  expect(missing).toEqual([]);
});
