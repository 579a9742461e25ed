/**
 * What one `bytes` field costs to decode on this runtime: the ways JavaScript
 * can hand out an owned copy (or a view) of n bytes of a receive buffer, each
 * timed per call. A generated decoder copies (`slice`): the bytes must outlive
 * the buffer the kernel reuses. The floor server and ringrpc both pay this
 * per request (bench/RESULTS.md 0.19, 0.20). Not a test.
 * Usage: node_modules/.bin/bun bench/codec/bytes-copy.ts [--size 64] [--calls 5000000]
 */
import { intFlag, parseArgs } from "../../src/cli/args.ts";

const args = parseArgs(Bun.argv.slice(2), { values: ["size", "calls"] });
const n = intFlag(args, "size", 64, 1, 1 << 15);
const calls = intFlag(args, "calls", 5_000_000, 1);

const src = new Uint8Array(new ArrayBuffer(1 << 16));
for (let i = 0; i < src.length; i++) src[i] = i & 255;
const srcBuffer = src.buffer;
let sink = 0;

/** ns per call of the third of three passes (the first two warm the JIT up). */
function timed(make: (at: number) => Uint8Array): number {
  let ns = 0;
  for (let pass = 0; pass < 3; pass++) {
    const t0 = Bun.nanoseconds();
    for (let i = 0; i < calls; i++) {
      const out = make((i * 80) & 0x7fff);
      sink += out[out.length - 1]!;
    }
    ns = (Bun.nanoseconds() - t0) / calls;
  }
  return ns;
}

const ways: [string, (at: number) => Uint8Array][] = [
  ["slice (a copy; what generated decoders do)", (at) => src.slice(at, at + n)],
  ["subarray (a view)", (at) => src.subarray(at, at + n)],
  ["new Uint8Array(buffer, off, n) (a view)", (at) => new Uint8Array(srcBuffer, at, n)],
  ["new Uint8Array(n) + set(subarray)", (at) => {
    const out = new Uint8Array(n);
    out.set(src.subarray(at, at + n));
    return out;
  }],
  ["new Uint8Array(n) + byte loop", (at) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = src[at + i]!;
    return out;
  }],
  ["new Uint8Array(n) alone (no copy)", (at) => {
    const out = new Uint8Array(n);
    out[n - 1] = at;
    return out;
  }],
];

console.log(`| way (${n} bytes) | ns per call |`);
console.log("|---|---:|");
for (const [name, make] of ways) console.log(`| ${name} | ${timed(make).toFixed(1)} |`);
if (sink === -1) console.log(sink);
