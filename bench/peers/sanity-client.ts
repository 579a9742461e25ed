/**
 * A quick pipelined bench.v1.Bench/echo client for a sanity rps figure of a
 * PROTOCOL.md server (not the benchmark's load generator: it shares a core's
 * worth of JS with its own msgpack work, so it under-reports fast servers).
 * Usage: bun bench/peers/sanity-client.ts --port P [--conns 16] [--depth 16] [--size 64] [--seconds 3]
 * Prints one JSON line: {"rps":..., "requests":..., "seconds":..., "errors":...}.
 * The request frame is packed once with the id as a u32 (0xce) and only the
 * id bytes are patched per call; replies are counted by their type byte
 * after the HELLO, so the client spends little CPU per call.
 */
import { Packr, Unpackr } from "msgpackr";

function flag(name: string, fallback: number): number {
  const at = Bun.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const v = Number(Bun.argv[at + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`sanity_client: --${name} must be a non-negative number, got '${Bun.argv[at + 1] ?? ""}'`);
  return v;
}

const port = flag("port", 0);
const conns = flag("conns", 16);
const depth = flag("depth", 16);
const size = flag("size", 64);
const seconds = flag("seconds", 3);
if (port === 0) throw new Error("sanity_client: --port is required");

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: "number" });
const payload = new Uint8Array(size).fill(7);
const echoMessage = new Map([[1, payload]]);

function frame(f: unknown[]): Uint8Array {
  const body = packr.pack(f);
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

interface ClientConn {
  nextId: number;
  partial: Uint8Array | null;
  ready: boolean;
}

let done = 0;
let errors = 0;
let stopping = false;
const until = performance.now() + seconds * 1000;

// [2, id, path, nil, nil, END_STREAM, {1: payload}] with id packed as 0xce + u32 BE at byte 7.
const template = frame([2, 0xfffffffe, "bench.v1.Bench/echo", null, null, 1, echoMessage]);
const ID_OFFSET = 7;
if (template[6] !== 0xce) throw new Error("sanity_client: unexpected request template layout");
const batch = new Uint8Array(template.length * Math.max(depth, 1));
const batchView = new DataView(batch.buffer);
for (let i = 0; i < Math.max(depth, 1); i++) batch.set(template, i * template.length);

function sendBatch(socket: { write(b: Uint8Array): number }, c: ClientConn, n: number): void {
  for (let i = 0; i < n; i++) batchView.setUint32(i * template.length + ID_OFFSET, c.nextId++);
  const total = n * template.length;
  if (socket.write(batch.subarray(0, total)) !== total) errors++;
}

const start = performance.now();
const sockets = await Promise.all(
  Array.from({ length: conns }, () =>
    Bun.connect<ClientConn>({
      hostname: "127.0.0.1",
      port,
      data: { nextId: 1, partial: null, ready: false },
      socket: {
        binaryType: "uint8array",
        open(socket) {
          socket.setNoDelay(true);
          socket.write(frame([1, 0, 1, 4194304, 1000, 64, 8192]));
        },
        data(socket, chunk) {
          const c = socket.data;
          let buf: Uint8Array = chunk;
          if (c.partial !== null) {
            buf = new Uint8Array(c.partial.length + chunk.length);
            buf.set(c.partial, 0);
            buf.set(chunk, c.partial.length);
            c.partial = null;
          }
          let pos = 0;
          let replies = 0;
          while (buf.length - pos >= 4) {
            const len = ((buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!) >>> 0;
            if (buf.length - pos - 4 < len) break;
            const type = len >= 2 ? buf[pos + 5] : -1;
            if (type === 5) replies++;
            else if (!c.ready && (unpackr.unpack(buf, { start: pos + 4, end: pos + 4 + len }) as unknown[])[0] === 1) {
              c.ready = true;
              sendBatch(socket, c, depth);
            } else errors++;
            pos += 4 + len;
          }
          if (pos < buf.length) c.partial = buf.slice(pos);
          done += replies;
          if (replies > 0 && !stopping) sendBatch(socket, c, replies);
        },
      },
    }),
  ),
);

while (performance.now() < until) await Bun.sleep(50);
stopping = true;
const elapsed = (performance.now() - start) / 1000;
for (const s of sockets) s.end();
console.log(JSON.stringify({ rps: Math.round(done / elapsed), requests: done, seconds: Number(elapsed.toFixed(3)), errors, conns, depth, size }));
process.exit(0);
