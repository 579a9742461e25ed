/**
 * The Bun.listen RPC peer: bench.v1.Bench (bench/bench.ridl) served over
 * docs/PROTOCOL.md on one Bun.listen server, one thread, msgpackr for the
 * bodies. It is the "obvious Bun alternative" ringrpc is benchmarked against.
 * Usage: bun bench/peers/bun-listen-rpc.ts --port P [--host 127.0.0.1] [--encoder msgpackr|direct]
 * `--encoder direct` swaps msgpackr's Packr for a hand-written msgpack writer
 * (same bytes on the wire up to int/float width choices; decoding stays msgpackr).
 * Prints `listening on HOST:PORT driver=bun-listen workers=1` when ready and
 * exits cleanly on SIGTERM/SIGINT. Owns argument parsing and the listener.
 */
import { type EncoderName, output } from "./peer-output.ts";
import { PeerConnection } from "./peer-connection.ts";

function usage(message: string): never {
  console.error(`bun_listen_rpc: ${message}\nusage: bun bench/peers/bun-listen-rpc.ts --port P [--host 127.0.0.1] [--encoder msgpackr|direct]`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): { host: string; port: number; encoder: EncoderName } {
  let host = "127.0.0.1";
  let port = 0;
  let encoder: EncoderName = "msgpackr";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === "--port") {
      const n = Number(value);
      if (value === undefined || !Number.isInteger(n) || n < 0 || n > 65535) usage(`--port must be an integer 0..65535, got '${value ?? ""}'`);
      port = n;
      i++;
    } else if (arg === "--host") {
      if (value === undefined || value === "") usage("--host needs an address");
      host = value;
      i++;
    } else if (arg === "--encoder") {
      if (value !== "msgpackr" && value !== "direct") usage(`--encoder must be msgpackr or direct, got '${value ?? ""}'`);
      encoder = value;
      i++;
    } else usage(`unknown argument '${arg ?? ""}'`);
  }
  return { host, port, encoder };
}

const { host, port, encoder } = parseArgs(Bun.argv.slice(2));
output.encoder = encoder;

const listener = Bun.listen<PeerConnection>({
  hostname: host,
  port,
  socket: {
    // Buffer is msgpackr's native input type (its string fast paths use Buffer methods).
    binaryType: "buffer",
    open(socket) {
      socket.setNoDelay(true);
      socket.data = new PeerConnection(socket);
      socket.data.opened();
    },
    data(socket, chunk) {
      socket.data.received(chunk);
    },
    drain(socket) {
      socket.data.drained();
    },
    close(socket) {
      socket.data.closed();
    },
    error(socket, error) {
      console.error(`bun_listen_rpc: socket error from ${socket.remoteAddress}: ${error.message}`);
    },
  },
});

function shutdown(): void {
  listener.stop(true);
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

console.log(`listening on ${host}:${listener.port} driver=bun-listen workers=1`);
