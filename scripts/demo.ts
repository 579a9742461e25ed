/**
 * The main demo (README's first command): generates the typed stubs from
 * examples/kv/kv.ridl with `ringrpc gen`, starts the kv server on every core,
 * runs the kv client (puts, gets, typed errors, a watch stream, a cancelled
 * call, client and bidi streams, a throughput run), prints what happened, and
 * stops the server gracefully.
 */
import { runKvDemo } from "../examples/kv/client.ts";
import { startServer } from "../test/helpers/server-process.ts";

const root = new URL("..", import.meta.url).pathname;
const say = (line: string) => console.log(line);

say("$ ringrpc gen examples/kv/kv.ridl --out examples/kv/gen");
const gen = Bun.spawnSync([process.execPath, "src/cli/main.ts", "gen", "examples/kv/kv.ridl", "--out", "examples/kv/gen"], { cwd: root });
process.stdout.write(gen.stdout);
process.stderr.write(gen.stderr);
if (gen.exitCode !== 0) process.exit(gen.exitCode);

say("$ bun examples/kv/server.ts --port 0 --workers auto");
const server = await startServer("examples/kv/server.ts", ["--port", "0", "--workers", "auto"]);
for (const l of server.stderr().trim().split("\n").filter(Boolean)) say(`  ${l}`);
say(`  listening on ${server.host}:${server.port} driver=${server.driver} workers=${server.workers}`);
say("$ bun examples/kv/client.ts");
say("  (thread-per-core: each worker owns its own in-memory store, so a connection's keys live on the worker it landed on)");
let failed = false;
try {
  await runKvDemo({ host: server.host, port: server.port, seconds: 2, log: (l) => say(`  ${l}`) });
} catch (err) {
  failed = true;
  say(`  demo failed: ${(err as Error).message}`);
}
const code = await server.stop();
say(`server stopped (SIGTERM) with exit code ${code}`);
process.exit(failed || code !== 0 ? 1 : 0);
