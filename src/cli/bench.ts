/**
 * `ringrpc bench`: runs the RPC benchmark matrix (bench/run.ts) with the given
 * options in a child process (so it gets its own pinning and environment)
 * and returns its exit code. The runner documents its options
 * (bench/README.md, `ringrpc bench --help`). The benchmark lives only in a
 * checkout of ringrpc: the package does not ship bench/.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const runner = fileURLToPath(new URL("../../bench/run.ts", import.meta.url));

export async function runBench(argv: string[]): Promise<number> {
  if (Bun.isStandaloneExecutable || !existsSync(runner)) {
    process.stderr.write("ringrpc bench: the benchmark is not part of the package: run it from a git checkout of ringrpc (npm run bench)\n");
    return 1;
  }
  const proc = Bun.spawn([process.execPath, runner, ...argv], { stdio: ["inherit", "inherit", "inherit"] });
  return await proc.exited;
}
