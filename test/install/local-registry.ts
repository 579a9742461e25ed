/**
 * A local npm registry for install tests that must not touch the network:
 * it serves every package installed in a node_modules tree (this
 * repository's own: zod, @types/bun, typescript, ...) at the versions found
 * there, with a packument per name and a gzipped tarball per version made
 * from the installed folder on first request. `bun add` pointed at it
 * (BUN_CONFIG_REGISTRY) resolves a project's dependencies exactly as from
 * registry.npmjs.org, offline. Names it does not hold get 404, which Bun
 * tolerates for optional dependencies of other platforms. Owns serving only.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface Installed {
  dir: string;
  manifest: Record<string, unknown> & { name: string; version: string };
}

export interface LocalRegistry {
  url: string;
  /** Package names (name@version) whose tarball was fetched, in order. */
  fetched: string[];
  stop(): void;
}

/** Every package folder under nodeModules (scoped and nested ones too). */
function installedPackages(nodeModules: string, into = new Map<string, Map<string, Installed>>()): Map<string, Map<string, Installed>> {
  if (!existsSync(nodeModules)) return into;
  for (const entry of readdirSync(nodeModules)) {
    if (entry.startsWith(".")) continue;
    const dirs = entry.startsWith("@") ? readdirSync(join(nodeModules, entry)).map((s) => join(nodeModules, entry, s)) : [join(nodeModules, entry)];
    for (const dir of dirs) {
      const file = join(dir, "package.json");
      if (!existsSync(file)) continue;
      const manifest = JSON.parse(readFileSync(file, "utf8")) as Installed["manifest"];
      if (typeof manifest.name !== "string" || typeof manifest.version !== "string") continue;
      if (!into.has(manifest.name)) into.set(manifest.name, new Map());
      into.get(manifest.name)!.set(manifest.version, { dir, manifest });
      installedPackages(join(dir, "node_modules"), into);
    }
  }
  return into;
}

/** A gzipped npm tarball (`package/...`) of an installed folder, without its nested node_modules. */
function tarball(dir: string): Uint8Array {
  const r = Bun.spawnSync(["tar", "-cf", "-", "--transform", "s,^\\.,package,", "--exclude=./node_modules", "-C", dir, "."], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`tar of ${dir} failed: ${r.stderr.toString()}`);
  return Bun.gzipSync(new Uint8Array(r.stdout), { level: 1 });
}

export function startLocalRegistry(nodeModules: string): LocalRegistry {
  const packages = installedPackages(nodeModules);
  const tarballs = new Map<string, { bytes: Uint8Array; integrity: string }>();
  const fetched: string[] = [];
  const packed = (name: string, version: string) => {
    const key = `${name}@${version}`;
    let t = tarballs.get(key);
    if (t === undefined) {
      const bytes = tarball(packages.get(name)!.get(version)!.dir);
      t = { bytes, integrity: `sha512-${new Bun.CryptoHasher("sha512").update(bytes).digest("base64")}` };
      tarballs.set(key, t);
    }
    return t;
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      const path = decodeURIComponent(url.pathname.slice(1));
      const tgz = path.match(/^-\/(.+)\/(\d[^/]*)\.tgz$/);
      if (tgz !== null) {
        const [, name, version] = tgz as unknown as [string, string, string];
        if (!packages.get(name)?.has(version)) return new Response("not here", { status: 404 });
        fetched.push(`${name}@${version}`);
        return new Response(packed(name, version).bytes, { headers: { "content-type": "application/octet-stream" } });
      }
      const versions = packages.get(path);
      if (versions === undefined) return Response.json({ error: "not found" }, { status: 404 });
      const out: Record<string, unknown> = {};
      let latest = "";
      for (const [version, { manifest }] of versions) {
        const { integrity } = packed(path, version);
        out[version] = { ...manifest, dist: { tarball: `${url.origin}/-/${path}/${version}.tgz`, integrity } };
        if (latest === "" || Bun.semver.order(version, latest) > 0) latest = version;
      }
      return Response.json({ name: path, "dist-tags": { latest }, versions: out });
    },
  });
  return { url: server.url.href, fetched, stop: () => server.stop(true) };
}
