/**
 * The wire truth of check-compat (issue 15): for every fixture pair in
 * test/compat-wire/pairs/, a `wire` rule fires exactly when the wire breaks
 * or changes meaning. Both versions of every pair are generated with the
 * real generator; representative values cross the generated codecs both
 * ways (cross-decode.ts), and real calls go old client -> new server and
 * new client -> old server on every driver (calls.ts), one server per
 * driver hosting every pair. A pair with a `before/` or `later/` version
 * (a change whose harm comes with the next step) is also checked across
 * that wider span. Source-only pairs must come out wire-safe.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Channel } from "../../src/rpc/client.ts";
import { describeDrivers } from "../rpc/helpers/drivers.ts";
import { withServer } from "../rpc/helpers/harness.ts";
import { makeImpl, newProbe } from "../rpc/service-impl.ts";
import { callAll, serve, type ServedVersion } from "./calls.ts";
import { crossDecode, readersAgree } from "./cross-decode.ts";
import { type GeneratedPairs, type GeneratedVersion, generateAll } from "./generated.ts";
import { loadPairs, type Pair, verdict, wireRules } from "./pairs.ts";

const pairs = loadPairs();
let gen: GeneratedPairs | undefined;

beforeAll(async () => {
  gen = await generateAll(pairs);
});
afterAll(() => gen?.dispose());

/** [older, newer] versions whose peers must get along: old and new, and before-or-old with later-or-new when the pair has either. */
function spans(p: Pair): [GeneratedVersion, GeneratedVersion][] {
  const g = gen!.byPair.get(p.name)!;
  const out: [GeneratedVersion, GeneratedVersion][] = [[g.old!, g.new!]];
  if (g.before !== undefined || g.later !== undefined) out.push([g.before ?? g.old!, g.later ?? g.new!]);
  return out;
}

const codecMemo = new Map<string, string[]>();
function codecProblems(p: Pair): string[] {
  let found = codecMemo.get(p.name);
  if (found === undefined) {
    found = spans(p).flatMap(([a, b]) => [...crossDecode(a, b), ...crossDecode(b, a)]);
    const g = gen!.byPair.get(p.name)!;
    if (g.before !== undefined) found.push(...readersAgree(g.before, g.old!, g.new!));
    codecMemo.set(p.name, found);
  }
  return found;
}

/** Fails with the whole story when the checker and the wire disagree. */
function agree(p: Pair, problems: string[]): void {
  const says = wireRules(verdict(p.versions.old, p.versions.new));
  const breaks = problems.length > 0;
  // A call that fails must fail alone, with a status: the next call on the channel still works.
  expect(problems.filter((x) => x.includes("the channel stopped working") || x.includes("not an RpcError"))).toEqual([]);
  if (breaks !== says.length > 0) {
    const checker = says.length > 0 ? `breaks the wire (${says.join(", ")})` : "is wire-safe";
    const wire = breaks ? `breaks:\n  ${problems.join("\n  ")}` : "is fine: every value decodes with the same meaning and every call succeeds";
    throw new Error(`${p.name}: check-compat says the change ${checker}, but the wire ${wire}\n(change: ${p.change})`);
  }
  expect(breaks).toBe(says.length > 0);
}

describe("check-compat's verdict on each pair is the one its fixture expects", () => {
  for (const p of pairs) {
    test(p.name, () => {
      expect(verdict(p.versions.old, p.versions.new).map((f) => f.rule)).toEqual([...p.expect]);
      // The wider span's other steps must be ones the checker accepts, or they, not this change, would be to blame.
      if (p.versions.before !== undefined) expect(wireRules(verdict(p.versions.before, p.versions.old))).toEqual([]);
      if (p.versions.later !== undefined) expect(wireRules(verdict(p.versions.new, p.versions.later))).toEqual([]);
    });
  }
});

describeDrivers("the wire agrees with check-compat", (d) => {
  let channel: Channel | undefined;
  let release = () => {};
  let running: Promise<void> = Promise.resolve();
  /** Per pair, per span: [served to the older client (the newer version), served to the newer client (the older version)]. */
  const served = new Map<string, [ServedVersion, ServedVersion][]>();

  beforeAll(async () => {
    pairs.forEach((p, i) => served.set(p.name, spans(p).map(([a, b], s) => [serve(`w${i}s${s}new`, b), serve(`w${i}s${s}old`, a)])));
    const bindings = [...served.values()].flat(2).flatMap((sv) => sv.bindings);
    const done = new Promise<void>((r) => (release = r));
    const ready = new Promise<Channel>((resolveReady, rejectReady) => {
      running = withServer(d, makeImpl(newProbe()), {}, async (h) => {
        resolveReady(h.channel());
        await done;
      }, bindings).catch((e: unknown) => {
        rejectReady(e);
        throw e;
      });
    });
    channel = await ready;
  });
  afterAll(async () => {
    release();
    await running;
  });

  for (const p of pairs) {
    test(p.name, async () => {
      const problems = [...codecProblems(p)];
      const hosts = served.get(p.name)!;
      for (const [[older, newer], [toOlderClient, toNewerClient]] of spans(p).map((s, i) => [s, hosts[i]!] as const)) {
        problems.push(...(await callAll(channel!, older, toOlderClient, true)));
        problems.push(...(await callAll(channel!, newer, toNewerClient, false)));
      }
      agree(p, problems);
    });
  }
});
