/**
 * Bun.listen echo contender for the raw echo benchmark: writes each received
 * chunk straight back; when the kernel takes only part of it, keeps the rest,
 * pauses reading (TCP backpressure reaches the client) and finishes the write
 * on `drain`. This is the reference ringrpc's runtime has to beat.
 * Usage: bun bench/echo/bun-listen-echo.ts --port P
 * Prints `listening on 127.0.0.1:P` when ready.
 */

interface EchoState {
  pending: Uint8Array | null;
}

function parsePort(argv: readonly string[]): number {
  const at = argv.indexOf("--port");
  const raw = at >= 0 ? argv[at + 1] : "0";
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`bun_listen_echo: --port must be an integer 0..65535, got '${raw}'`);
    process.exit(2);
  }
  return port;
}

/** Writes buf; returns the unwritten tail (a copy, the chunk may be reused) or null. */
function writeOrKeep(socket: { write(data: Uint8Array): number }, buf: Uint8Array): Uint8Array | null {
  const written = socket.write(buf);
  if (written === buf.length) return null;
  return buf.slice(Math.max(written, 0));
}

const listener = Bun.listen<EchoState>({
  hostname: "127.0.0.1",
  port: parsePort(Bun.argv.slice(2)),
  socket: {
    binaryType: "uint8array",
    open(socket) {
      socket.data = { pending: null };
      socket.setNoDelay(true);
    },
    data(socket, chunk) {
      const state = socket.data;
      if (state.pending !== null) {
        // Data that raced the pause: queue it behind what is already waiting.
        const joined = new Uint8Array(state.pending.length + chunk.length);
        joined.set(state.pending, 0);
        joined.set(chunk, state.pending.length);
        state.pending = joined;
        return;
      }
      state.pending = writeOrKeep(socket, chunk);
      if (state.pending !== null) socket.pause();
    },
    drain(socket) {
      const state = socket.data;
      if (state.pending === null) return;
      state.pending = writeOrKeep(socket, state.pending);
      if (state.pending === null) socket.resume();
    },
    error(_socket, error) {
      console.error(`bun_listen_echo: socket error: ${error.message}`);
    },
  },
});

console.log(`listening on 127.0.0.1:${listener.port}`);
