/**
 * ringrpc as a dependency, the way README.md ("Use ringrpc in your project")
 * tells a user: pack the package, `bun add` the file into a fresh project,
 * generate stubs with `bunx ringrpc gen`, serve on io_uring and call once,
 * type-check with the README's tsconfig, then build the server and the CLI
 * into single binaries and run them. The commands and files are read from
 * the README itself. Then the other way in the README names: `bun add` of
 * a checkout's folder. Installing is offline: a local registry
 * (local-registry.ts) serves the packages this repository has installed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { probeUring } from "../../src/runtime/uring/probe.ts";
import { skipTitle } from "../helpers/skip.ts";
import { type LocalRegistry, startLocalRegistry } from "./local-registry.ts";
import { readmeSection } from "./readme-section.ts";

const root = new URL("../..", import.meta.url).pathname;
const tarballName = `ringrpc-${pkg.version}.tgz`;

/** What the README shows, in order; the test runs exactly these (with /tmp -> its temp dir). */
const COMMANDS = [
  "bun pm pack --destination /tmp",
  `bun add /tmp/${tarballName}`,
  "bun add -d typescript @types/bun",
  "bunx ringrpc gen hello.ridl --out gen",
  "bun server.ts",
  "bun client.ts",
  "bunx tsc --noEmit",
  "bun build --compile server.ts --outfile hello-server",
  "./hello-server",
  "bun build --compile node_modules/ringrpc/src/cli/main.ts --outfile ringrpc",
  "./ringrpc doctor",
];

/** Why this machine cannot pack and install the package, or null. */
function missingTool(): string | null {
  const platform = `${process.platform}-${process.arch}`;
  if (platform !== "linux-x64") return `the package ships the linux-x64 shim and is packed only there (this is ${platform})`;
  for (const tool of ["tar", "gcc", "make", "readelf"]) {
    if (Bun.which(tool) === null) return `${tool} is not installed (packing builds the native shim; the local registry packs with tar)`;
  }
  if (!existsSync("/usr/include/liburing.h")) return "liburing-dev is not installed (packing builds the native shim): run bash scripts/setup.sh";
  return null;
}

const noTool = missingTool();
const probe = probeUring();
const noUring = probe.ok ? null : `io_uring unavailable here: ${probe.reason}`;

let dir = "";
/** The project the current describe block works in. */
let app = "";
let registry: LocalRegistry | null = null;
const section = readmeSection(join(root, "README.md"), "Use ringrpc in your project");

interface Run {
  code: number;
  out: string;
  err: string;
}

/**
 * The environment of every command: the local registry, a private Bun cache,
 * and a PATH like a user's: Bun on it (as `bun`), no node_modules/.bin of
 * this repository (npm test puts ours there).
 */
function env(extra: Record<string, string> = {}): Record<string, string> {
  const system = (process.env.PATH ?? "/usr/bin:/bin").split(":").filter((p) => !p.includes("node_modules"));
  return {
    ...(process.env as Record<string, string>),
    BUN_CONFIG_REGISTRY: registry!.url,
    NPM_CONFIG_REGISTRY: registry!.url,
    npm_config_registry: registry!.url,
    BUN_INSTALL_CACHE_DIR: join(dir, "bun-cache"),
    PATH: [join(dir, "bin"), ...system].join(":"),
    NO_COLOR: "1",
    ...extra,
  };
}

/** One command as argv: `bun`/`bunx` are this test's Bun; in a README command, /tmp is the test's temp dir. */
function argv(command: string): string[] {
  const fromReadme = COMMANDS.includes(command);
  const words = command.split(" ").map((w) => (fromReadme && (w === "/tmp" || w.startsWith("/tmp/")) ? dir + w.slice(4) : w));
  if (words[0] === "bun") return [process.execPath, ...words.slice(1)];
  if (words[0] === "bunx") return [process.execPath, "x", ...words.slice(1)];
  if (words[0]!.startsWith("./")) return [join(app, words[0]!.slice(2)), ...words.slice(1)];
  throw new Error(`the test does not know how to run: ${command}`);
}

/** Runs a README command to its end. Never spawnSync: the local registry answers from this process's event loop. */
async function run(command: string, cwd: string, timeoutMs: number, extra: Record<string, string> = {}): Promise<Run> {
  const proc = Bun.spawn(argv(command), { cwd, env: env(extra), stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: timeoutMs });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err };
}

function expectOk(r: Run, what: string): void {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.out}\n${r.err}`);
}

/** Starts a README server command with PORT=0; resolves once it prints its `listening on` line. */
async function startServer(command: string): Promise<{ port: number; stderr: () => string; stop: () => Promise<number> }> {
  const proc = Bun.spawn(argv(command), { cwd: app, env: env({ PORT: "0" }), stdout: "pipe", stderr: "pipe" });
  let err = "";
  void (async () => {
    for await (const chunk of proc.stderr) err += new TextDecoder().decode(chunk);
  })();
  let out = "";
  const reader = proc.stdout.getReader();
  const deadline = Date.now() + 15_000;
  let m: RegExpMatchArray | null = null;
  while (m === null) {
    const next = await Promise.race([reader.read(), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => null)]);
    if (next === null || next.done) {
      proc.kill("SIGKILL");
      throw new Error(`${command} not ready (${next === null ? "timeout" : "exited"}): stdout=${out} stderr=${err}`);
    }
    out += new TextDecoder().decode(next.value);
    m = out.match(/listening on 127\.0\.0\.1:(\d+)/);
  }
  return {
    port: Number(m[1]),
    stderr: () => err,
    async stop() {
      proc.kill("SIGTERM");
      const kill = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      const code = await proc.exited;
      clearTimeout(kill);
      return code;
    },
  };
}

/** Serves with `command`, makes the README client's one call, returns the server's startup line (its `event=start` log line) and the answer. */
async function serveAndCall(command: string): Promise<{ line: string; answer: Run }> {
  const server = await startServer(command);
  try {
    const answer = await run("bun client.ts", app, 15_000, { PORT: String(server.port) });
    return { line: server.stderr().split("\n").find((l) => l.includes(" event=start ")) ?? server.stderr(), answer };
  } finally {
    const exit = await server.stop();
    expect(exit).toBe(0);
  }
}

beforeAll(() => {
  if (noTool !== null) return;
  dir = mkdtempSync(join(tmpdir(), "ringrpc-install-"));
  mkdirSync(join(dir, "bin"));
  symlinkSync(process.execPath, join(dir, "bin", "bun"));
  registry = startLocalRegistry(join(root, "node_modules"));
});

afterAll(() => {
  registry?.stop();
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

/** A fresh project with a package.json and the README's four files. */
function newProject(name: string): void {
  app = join(dir, name);
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), `${JSON.stringify({ name: "hello", private: true }, null, 2)}\n`);
  for (const [file, text] of section.files) writeFileSync(join(app, file), text);
}

/**
 * An installed package without its prebuilt shim: the server falls back to
 * epoll with one line naming the make command for this project, that command
 * builds the shim from the shipped sources, and the server then runs on io_uring.
 */
async function buildFromSource(pkgDir: string): Promise<void> {
  const fallback = await serveAndCall(COMMANDS[4]!);
  const make = `make -C ${pkgDir}/native`;
  expect(fallback.line).toContain(
    `msg="io_uring unavailable (no native shim for linux-x64 in ${pkgDir}: neither native/prebuilt/linux-x64/libringrpc.so nor native/build/libringrpc.so exists; install gcc, make and liburing-dev, then run \`${make}\`); using epoll" event=start driver=epoll`,
  );
  expect(fallback.answer.out).toBe("hello, world\n");
  const built = Bun.spawn(make.split(" "), { stdout: "pipe", stderr: "pipe" });
  const [buildErr, buildCode] = await Promise.all([new Response(built.stderr).text(), built.exited]);
  expect({ buildCode, buildErr: buildCode === 0 ? "" : buildErr }).toEqual({ buildCode: 0, buildErr: "" });
  expect(existsSync(join(pkgDir, "native", "build", "libringrpc.so"))).toBe(true);
  // make builds a prebuilt copy too where liburing.a is installed: remove it, so the source build serves.
  rmSync(join(pkgDir, "native", "prebuilt"), { recursive: true, force: true });
  const fromSource = await serveAndCall(COMMANDS[4]!);
  expect(fromSource.line).toContain('msg="driver=uring ring=');
  expect(fromSource.answer.out).toBe("hello, world\n");
}

describe(skipTitle("ringrpc installed from its package file", noTool), () => {
  beforeAll(() => {
    if (noTool === null) newProject("app");
  });

  test.skipIf(noTool !== null)("the README shows exactly the commands this test runs, and the four files", () => {
    expect(section.commands).toEqual(COMMANDS);
    expect([...section.files.keys()].sort()).toEqual(["client.ts", "hello.ridl", "server.ts", "tsconfig.json"]);
  });

  test.skipIf(noTool !== null)("bun pm pack builds the prebuilt shim into a package without test/, bench/ or examples/", async () => {
    expectOk(await run(COMMANDS[0]!, root, 60_000), "bun pm pack");
    const list = Bun.spawnSync(["tar", "tzf", join(dir, tarballName)]).stdout.toString().trim().split("\n");
    expect(list).toContain("package/native/prebuilt/linux-x64/libringrpc.so");
    expect(list).toContain("package/src/zod.ts");
    expect(list).toContain("package/LICENSE");
    expect(list.filter((f) => /^package\/(test|bench|examples|scripts|native\/build|node_modules)\//.test(f))).toEqual([]);
  }, 60_000);

  test.skipIf(noTool !== null)("bun add of the package file installs ringrpc, zod and @types/bun offline, and nothing of ringrpc's own tooling", async () => {
    expectOk(await run(COMMANDS[1]!, app, 60_000), "bun add ringrpc");
    // @types/bun comes as ringrpc's peer, before the project asks for it.
    expect(existsSync(join(app, "node_modules", "@types", "bun", "package.json"))).toBe(true);
    expectOk(await run(COMMANDS[2]!, app, 60_000), "bun add -d typescript @types/bun");
    const manifest = JSON.parse(readFileSync(join(app, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies)).toEqual(["ringrpc"]);
    const nm = join(app, "node_modules");
    expect(existsSync(join(nm, "ringrpc", "native", "prebuilt", "linux-x64", "libringrpc.so"))).toBe(true);
    expect(existsSync(join(nm, "zod", "package.json"))).toBe(true);
    // msgpackr and the pinned Bun are ringrpc's devDependencies: a user never gets them.
    expect(readdirSync(nm).filter((n) => ["msgpackr", "bun"].includes(n))).toEqual([]);
    expect(registry!.fetched).toContain("zod@4.6.7");
  }, 90_000);

  test.skipIf(noTool !== null)("bunx ringrpc gen runs the package's bin in the project and the output imports only ringrpc", async () => {
    expectOk(await run(COMMANDS[3]!, app, 30_000), "bunx ringrpc gen");
    const generated = readFileSync(join(app, "gen", "hello.ts"), "utf8");
    const imports = [...generated.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    expect(imports).toEqual(["ringrpc/codec", "ringrpc/rpc", "ringrpc/zod"]);
  }, 30_000);

  test.skipIf(noTool !== null)("tsc --noEmit type-checks the project and ringrpc's sources with the README's tsconfig", async () => {
    const r = await run(COMMANDS[6]!, app, 60_000);
    expect(`${r.out}${r.err}`).toBe("");
    expect(r.code).toBe(0);
  }, 60_000);

  test.skipIf(noTool !== null || noUring !== null)(skipTitle("the server serves on io_uring and the client's call is answered", noUring), async () => {
    const { line, answer } = await serveAndCall(COMMANDS[4]!);
    expect(line).toContain('msg="driver=uring ring=');
    expect(answer.err).toBe("");
    expect(answer.out).toBe("hello, world\n");
  }, 30_000);

  test.skipIf(noTool !== null || noUring !== null)(
    skipTitle("without a prebuilt shim the server says, in one line, how to build one in the project, and that command works", noUring),
    async () => {
      const pkgDir = join(app, "node_modules", "ringrpc");
      renameSync(join(pkgDir, "native", "prebuilt"), join(dir, "prebuilt.off"));
      try {
        await buildFromSource(pkgDir);
      } finally {
        rmSync(join(pkgDir, "native", "prebuilt"), { recursive: true, force: true });
        renameSync(join(dir, "prebuilt.off"), join(pkgDir, "native", "prebuilt"));
      }
    },
    60_000,
  );


  test.skipIf(noTool !== null || noUring !== null)(skipTitle("the server compiled to a single binary runs on io_uring with the embedded shim", noUring), async () => {
    expectOk(await run(COMMANDS[7]!, app, 60_000), "bun build --compile server.ts");
    const { line, answer } = await serveAndCall(COMMANDS[8]!);
    expect(line).toContain('msg="driver=uring ring=');
    expect(answer.out).toBe("hello, world\n");
  }, 60_000);

  test.skipIf(noTool !== null || noUring !== null)(skipTitle("the ringrpc CLI compiled to a single binary finds its embedded shim", noUring), async () => {
    expectOk(await run(COMMANDS[9]!, app, 60_000), "bun build --compile the CLI");
    const r = await run(COMMANDS[10]!, app, 30_000);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^native library: \/\$bunfs\/\S+\.so \(embedded in the binary\)$/m);
    expect(r.out).toMatch(/^driver: uring — driver=uring/m);
  }, 60_000);
});

describe(skipTitle("ringrpc installed from a checkout's folder", noTool), () => {
  beforeAll(() => {
    if (noTool === null) newProject("from-checkout");
  });

  test.skipIf(noTool !== null)("the README names `bun add` of a checkout's folder as a way in", () => {
    expect(readFileSync(join(root, "README.md"), "utf8")).toContain("`bun add /path/to/ringrpc` (a checkout) works too");
  });

  test.skipIf(noTool !== null || noUring !== null)(skipTitle("bun add <checkout> gives a working bin, generated code and an io_uring server", noUring), async () => {
    expectOk(await run(`bun add ${root.replace(/\/$/, "")}`, app, 90_000), "bun add <checkout>");
    expectOk(await run(COMMANDS[3]!, app, 30_000), "bunx ringrpc gen");
    const { line, answer } = await serveAndCall(COMMANDS[4]!);
    expect(line).toContain('msg="driver=uring ring=');
    expect(answer.out).toBe("hello, world\n");
  }, 120_000);
});

describe(skipTitle("ringrpc installed with Bun's isolated linker (nothing hoisted)", noTool), () => {
  beforeAll(() => {
    if (noTool === null) newProject("isolated");
  });

  test.skipIf(noTool !== null || noUring !== null)(
    skipTitle("generated code finds zod through ringrpc where the project itself has no zod, and tsc passes", noUring),
    async () => {
      expectOk(await run(`bun add --linker=isolated ${join(dir, tarballName)}`, app, 60_000), "bun add --linker=isolated");
      expectOk(await run("bun add --linker=isolated -d typescript @types/bun", app, 60_000), "bun add --linker=isolated -d");
      expect(existsSync(join(app, "node_modules", "zod"))).toBe(false);
      expectOk(await run(COMMANDS[3]!, app, 30_000), "bunx ringrpc gen");
      const { line, answer } = await serveAndCall(COMMANDS[4]!);
      expect(line).toContain('msg="driver=uring ring=');
      expect(answer.out).toBe("hello, world\n");
      const tsc = await run(COMMANDS[6]!, app, 60_000);
      expect(`${tsc.out}${tsc.err}`).toBe("");
      expect(tsc.code).toBe(0);
    },
    90_000,
  );
});
