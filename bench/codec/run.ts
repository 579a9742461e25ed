/**
 * Codec microbenchmark: generated encode/decode (examples/kv/gen) against
 * msgpackr's generic pack/unpack (reused Packr/Unpackr, useRecords: false) on
 * the equivalent object, for three shapes (small, medium, nested) plus a
 * string-only one without BigInt/Date fields (msgpackr's best case); and generated validators against
 * zod (plain and z.compile). Prints ns/op medians over several rounds.
 * Usage: node_modules/.bin/bun bench/codec/run.ts [--rounds N] [--ms PER_ROUND] [--cpu]
 * `--cpu` divides the process's CPU time (user + system) instead of the wall
 * time by the operations: on a shared, busy machine wall time counts the
 * time other processes held the core, CPU time does not.
 * Case names follow layer/op/fixture. Not a test.
 */
import { Packr, Unpackr } from "msgpackr";
import { z } from "zod";
import { MsgReader, MsgWriter } from "../../src/codec/index.ts";
import * as kv from "../../examples/kv/gen/kv.ts";

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const ROUNDS = arg("rounds", 7);
const MS_PER_ROUND = arg("ms", 150);
const CPU_CLOCK = process.argv.includes("--cpu");

let sink = 0;

/** ns/op median over ROUNDS rounds of ~MS_PER_ROUND each. */
function measure(fn: () => unknown): number {
  // calibrate a batch size of about 1 ms
  let batch = 64;
  for (;;) {
    const t = performance.now();
    for (let i = 0; i < batch; i++) fn();
    if (performance.now() - t > 1) break;
    batch *= 2;
  }
  const results: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let ops = 0;
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    let now = start;
    while (now - start < MS_PER_ROUND) {
      for (let i = 0; i < batch; i++) {
        const v = fn();
        if (v === null) sink++;
      }
      ops += batch;
      now = performance.now();
    }
    const cpu = process.cpuUsage(cpu0);
    results.push(CPU_CLOCK ? ((cpu.user + cpu.system) * 1e3) / ops : ((now - start) * 1e6) / ops);
  }
  results.sort((a, b) => a - b);
  return results[Math.floor(results.length / 2)]!;
}

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

const small: kv.GetRequest = { key: "user:42" };
const medium: kv.PutRequest = { key: "profile/alice/avatar", value: bytes(64, 1), expected_version: 41n, origin: kv.Origin.ORIGIN_CLIENT };
/** No bigint or Date fields: msgpackr's fastest case (it is slow on BigInt and Date). */
const chatMsg: kv.ChatMsg = { from: "alice@example.com", text: "Hello everyone, the deploy of build 4711 finished; dashboards look green. Ping me if not." };
const nested: kv.Chunk = {
  entries: Array.from({ length: 16 }, (_, i) => ({ key: `bulk/key/${i}`, value: bytes(32, i), version: BigInt(i + 1), updated_at: new Date(1_700_000_000_000 + i) })),
};

interface Shape<T> {
  name: string;
  value: T;
  type: { encode(w: MsgWriter, v: T): void; decode(r: MsgReader): T; validate(v: T): unknown };
  schema: z.ZodType<T>;
}
const shapes: Shape<never>[] = [
  { name: "small", value: small, type: kv.GetRequestType, schema: kv.GetRequestSchema } as unknown as Shape<never>,
  { name: "medium", value: medium, type: kv.PutRequestType, schema: kv.PutRequestSchema } as unknown as Shape<never>,
  { name: "strings", value: chatMsg, type: kv.ChatMsgType, schema: kv.ChatMsgSchema } as unknown as Shape<never>,
  { name: "nested", value: nested, type: kv.ChunkType, schema: kv.ChunkSchema } as unknown as Shape<never>,
];

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, int64AsType: "bigint" });
const w = new MsgWriter(64 * 1024);
const r = new MsgReader();

const rows: string[][] = [];
for (const s of shapes) {
  w.reset();
  s.type.encode(w, s.value);
  const ours = w.bytes().slice();
  const theirs = Uint8Array.from(packr.pack(s.value));
  const encGen = measure(() => {
    w.reset();
    s.type.encode(w, s.value);
    return w.pos;
  });
  const encMp = measure(() => packr.pack(s.value).length);
  const decGen = measure(() => {
    r.reset(ours);
    return s.type.decode(r);
  });
  const decMp = measure(() => unpackr.unpack(theirs));
  const valGen = measure(() => s.type.validate(s.value));
  const zodPlain = measure(() => s.schema.safeParse(s.value).success);
  const compiled = z.compile(s.schema);
  const zodCompiled = measure(() => compiled.safeParse(s.value).success);
  rows.push([s.name, `${ours.length} / ${theirs.length}`, encGen.toFixed(0), encMp.toFixed(0), (encMp / encGen).toFixed(1), decGen.toFixed(0), decMp.toFixed(0), (decMp / decGen).toFixed(1), valGen.toFixed(0), zodCompiled.toFixed(0), zodPlain.toFixed(0)]);
}

const header = ["fixture", "bytes gen/msgpackr", "codec/encode gen", "msgpackr pack", "x", "codec/decode gen", "msgpackr unpack", "x", "validate gen", "zod compiled", "zod"];
console.log(`codec microbenchmark, ns/op (${CPU_CLOCK ? "CPU" : "wall"} time) medians of ${ROUNDS} rounds x ${MS_PER_ROUND} ms; Bun ${Bun.version}, ${process.platform} ${process.arch}, ${new Date().toISOString()}`);
console.log(`| ${header.join(" | ")} |`);
console.log(`|${header.map(() => "---").join("|")}|`);
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
if (sink < 0) console.log(sink);
