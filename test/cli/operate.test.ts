/**
 * `ringrpc list`, `describe`, `call` and `health` as a person runs them:
 * the command (src/cli/main.ts) in its own process against a real kv server
 * process (examples/kv/server.ts) on 127.0.0.1, with no local .ridl (all
 * from reflection), then against a server without reflection through
 * `--idl`. Checks stdout, the stderr lines and the exit codes: 0 on OK, the
 * status number otherwise, 2 for a usage error, and for health 0 only when
 * SERVING. Each command is bounded (killed after 10 s).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ServerProcess, startServer } from "../helpers/server-process.ts";

const ROOT = join(import.meta.dir, "..", "..");
const MAIN = join(ROOT, "src/cli/main.ts");
const KV = join(ROOT, "examples/kv/server.ts");

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function ringrpc(args: string[], stdin = ""): Promise<Ran> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], { cwd: ROOT, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  proc.stdin.write(stdin);
  await proc.stdin.end();
  const kill = setTimeout(() => proc.kill("SIGKILL"), 10000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(kill);
  return { code, stdout, stderr };
}

const lines = (s: string) => s.split("\n").filter((l) => l !== "");

let kv: ServerProcess;
let bare: ServerProcess;
let T = "";
let B = "";

beforeAll(async () => {
  [kv, bare] = await Promise.all([
    startServer(KV, ["--port", "0", "--workers", "1", "--driver", "epoll"]),
    startServer(KV, ["--port", "0", "--workers", "1", "--driver", "epoll", "--no-reflection"]),
  ]);
  T = `${kv.host}:${kv.port}`;
  B = `${bare.host}:${bare.port}`;
});

afterAll(async () => {
  await Promise.all([kv?.stop(5000), bare?.stop(5000)]);
});

describe("ringrpc list and describe, from reflection", () => {
  test("list: the services, then one service's methods with their kinds", async () => {
    const all = await ringrpc(["list", T]);
    expect([all.code, all.stderr]).toEqual([0, ""]);
    expect(lines(all.stdout)).toEqual(["kv.v1.KeyValue", "ringrpc.health.v1.Health", "ringrpc.reflection.v1.Reflection"]);
    const one = await ringrpc(["list", T, "kv.v1.KeyValue"]);
    expect(lines(one.stdout)).toEqual([
      "kv.v1.KeyValue/get unary",
      "kv.v1.KeyValue/put unary",
      "kv.v1.KeyValue/watch server_stream",
      "kv.v1.KeyValue/upload client_stream",
      "kv.v1.KeyValue/chat bidi",
    ]);
    const missing = await ringrpc(["list", T, "kv.v2.KeyValue"]);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('ringrpc list: NOT_FOUND (5): no service "kv.v2.KeyValue" (the server offers kv.v1.KeyValue, ');
  });

  test("describe a method: its line, then every type it reaches", async () => {
    const r = await ringrpc(["describe", T, "kv.v1.KeyValue/get"]);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith("// kv.v1.KeyValue/get (unary)\n/// Reads one key.\nget(GetRequest) -> GetReply throws KeyNotFound [idempotent, deadline = 500ms];\n")).toBe(true);
    expect(lines(r.stdout).filter((l) => l.startsWith("// "))).toEqual(["// kv.v1.KeyValue/get (unary)", "// kv.v1.GetRequest", "// kv.v1.GetReply", "// kv.v1.Entry", "// kv.v1.KeyNotFound"]);
    expect(r.stdout).toContain("struct Entry {\n  1: key: string;\n  2: value: bytes;\n  /// Bumped by every put; absent for entries never written.\n  3: version?: u64;\n  4: updated_at?: timestamp;\n}");
    expect(r.stdout).toContain("error KeyNotFound [status = NOT_FOUND] {\n  1: key: string;\n}");
  });

  test("describe a type with a default and a union", async () => {
    const put = await ringrpc(["describe", T, "kv.v1.PutRequest"]);
    expect(put.stdout).toContain("  4: origin: Origin = ORIGIN_CLIENT;\n}");
    expect(put.stdout).toContain("// kv.v1.Origin\n/// Where a change came from.\nenum Origin {\n  ORIGIN_UNKNOWN = 0;");
    const ev = await ringrpc(["describe", T, "kv.v1.Event"]);
    expect(ev.stdout).toContain("union Change {\n  1: put: Entry;\n  2: deleted: string;\n}");
    const none = await ringrpc(["describe", T, "kv.v1.Nope"]);
    expect(none.code).toBe(5);
  });
});

describe("ringrpc call, from reflection", () => {
  test("unary: put then get, JSON in and out (bytes base64, timestamps RFC 3339)", async () => {
    const put = await ringrpc(["call", T, "kv.v1.KeyValue/put", '{"key":"cli:a","value":"aGVsbG8="}']);
    expect([put.code, put.stdout, put.stderr]).toEqual([0, '{"version":1}\n', ""]);
    const get = await ringrpc(["call", T, "kv.v1.KeyValue/get", "-d", '{"key":"cli:a"}']);
    expect(get.code).toBe(0);
    const reply = JSON.parse(get.stdout) as { entry: { key: string; value: string; version: number; updated_at: string } };
    expect(reply.entry).toMatchObject({ key: "cli:a", value: "aGVsbG8=", version: 1 });
    expect(reply.entry.updated_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  test("a typed error: exit 5 (NOT_FOUND), the status and the error's fields on stderr", async () => {
    const r = await ringrpc(["call", T, "kv.v1.KeyValue/get", '{"key":"cli:missing"}']);
    expect(r.code).toBe(5);
    expect(r.stdout).toBe("");
    expect(lines(r.stderr)).toEqual(['ringrpc call: NOT_FOUND (5): no key "cli:missing"', 'ringrpc call: kv.v1.KeyNotFound {"key":"cli:missing"}']);
  });

  test("a compare-and-set conflict: exit 10 (ABORTED) with the u64 field", async () => {
    await ringrpc(["call", T, "kv.v1.KeyValue/put", '{"key":"cli:cas","value":""}']);
    const r = await ringrpc(["call", T, "kv.v1.KeyValue/put", '{"key":"cli:cas","value":"","expected_version":"7"}']);
    expect(r.code).toBe(10);
    expect(lines(r.stderr)[1]).toBe('ringrpc call: kv.v1.VersionMismatch {"key":"cli:cas","current":1}');
  });

  test("client stream from stdin, one JSON per line; bidi prints NDJSON", async () => {
    const chunks = '{"entries":[{"key":"cli:u1","value":""}]}\n\n{"entries":[{"key":"cli:u2","value":"AQ=="},{"key":"cli:u3","value":""}]}\n';
    const up = await ringrpc(["call", T, "kv.v1.KeyValue/upload"], chunks);
    expect([up.code, up.stdout]).toEqual([0, '{"count":3}\n']);
    const got = await ringrpc(["call", T, "kv.v1.KeyValue/get", '{"key":"cli:u2"}']);
    expect(JSON.parse(got.stdout).entry.value).toBe("AQ==");
    const chat = await ringrpc(["call", T, "kv.v1.KeyValue/chat", "-d", "@-"], '{"from":"a","text":"1"}\n{"from":"b","text":"2"}\n');
    expect(lines(chat.stdout)).toEqual(['{"from":"kv","text":"a said: 1"}', '{"from":"kv","text":"b said: 2"}']);
  });

  test("-d @FILE reads the requests from a file; a missing file is a usage error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ringrpc-call-"));
    try {
      const file = join(dir, "chunks.ndjson");
      writeFileSync(file, '{"entries":[{"key":"cli:f1","value":""},{"key":"cli:f2","value":""}]}\n');
      const up = await ringrpc(["call", T, "kv.v1.KeyValue/upload", "-d", `@${file}`]);
      expect([up.code, up.stdout]).toEqual([0, '{"count":2}\n']);
      const missing = await ringrpc(["call", T, "kv.v1.KeyValue/upload", "-d", `@${join(dir, "nope")}`]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("cannot read");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("server stream: NDJSON as events arrive, ended by --timeout (exit 4)", async () => {
    const watching = ringrpc(["call", T, "kv.v1.KeyValue/watch", '{"prefix":"cli:w"}', "--timeout", "1500ms"]);
    await Bun.sleep(400);
    for (const k of ["cli:w1", "cli:w2"]) await ringrpc(["call", T, "kv.v1.KeyValue/put", JSON.stringify({ key: k, value: "" })]);
    const r = await watching;
    expect(r.code).toBe(4);
    expect(lines(r.stdout).map((l) => JSON.parse(l).change.put.key)).toEqual(["cli:w1", "cli:w2"]);
    expect(lines(r.stderr)).toHaveLength(1);
    // The budget the message names is what was left when the call went out: 1500 ms less the connect and HELLO (0-1 ms here, more on a loaded machine).
    const left = /^ringrpc call: DEADLINE_EXCEEDED \(4\): deadline of (\d+) ms exceeded/.exec(r.stderr);
    expect(left).not.toBeNull();
    expect(Number(left![1])).toBeLessThanOrEqual(1500);
    expect(Number(left![1])).toBeGreaterThan(1400);
  });

  test("a request that does not fit is INVALID_ARGUMENT (exit 3) naming the field; an unknown method is UNIMPLEMENTED (12)", async () => {
    const typo = await ringrpc(["call", T, "kv.v1.KeyValue/get", '{"kye":"a"}']);
    expect([typo.code, typo.stderr]).toEqual([3, "ringrpc call: INVALID_ARGUMENT (3): kye: unknown field of kv.v1.GetRequest (its fields: key)\n"]);
    const badLine = await ringrpc(["call", T, "kv.v1.KeyValue/upload"], '{"entries":[]}\n{"entries":[{"key":1}]}\n');
    expect([badLine.code, badLine.stderr]).toEqual([3, "ringrpc call: INVALID_ARGUMENT (3): request 2: entries[0].key: expected a string, found number 1\n"]);
    const nope = await ringrpc(["call", T, "kv.v1.KeyValue/nope", "{}"]);
    expect(nope.code).toBe(12);
  });

  test("-H sends metadata; a bad header, a bad path and an unknown flag are usage errors: exit 2, one line", async () => {
    const ok = await ringrpc(["call", T, "kv.v1.KeyValue/put", '{"key":"cli:h","value":""}', "-H", "x-user: ann"]);
    expect(ok.code).toBe(0);
    // The server's metadata limit is 8 KiB: a 9 KiB header reaching it is refused with RESOURCE_EXHAUSTED (8).
    const big = await ringrpc(["call", T, "kv.v1.KeyValue/put", '{"key":"cli:h","value":""}', "-H", `x-big:${"a".repeat(9000)}`]);
    expect(big.code).toBe(8);
    for (const [args, problem] of [
      [["call", T, "kv.v1.KeyValue/get", "{}", "-H", "Bad Key:1"], '-H "Bad Key:1" is not key:value'],
      [["call", T, "get", "{}"], 'give the method as SERVICE/METHOD, e.g. kv.v1.KeyValue/get (got "get")'],
      [["call", T, "kv.v1.KeyValue/get", "--tiemout", "1s"], "unknown option --tiemout"],
      [["call", "7100", "kv.v1.KeyValue/get"], '"7100" is not HOST:PORT'],
    ] as const) {
      const r = await ringrpc([...args]);
      expect(r.code).toBe(2);
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toContain(problem);
    }
  });
});

describe("without reflection: --idl", () => {
  test("call and list say reflection is off and what to do; with --idl they work", async () => {
    const off = await ringrpc(["call", B, "kv.v1.KeyValue/get", '{"key":"x"}']);
    expect(off.code).toBe(12);
    expect(off.stderr).toContain("the server offers no reflection");
    expect(off.stderr).toContain("pass the service's IDL with --idl FILE.ridl");
    const idl = ["--idl", "examples/kv/kv.ridl"];
    const put = await ringrpc(["call", B, "kv.v1.KeyValue/put", '{"key":"x","value":"AA=="}', ...idl]);
    expect([put.code, put.stdout]).toEqual([0, '{"version":1}\n']);
    const miss = await ringrpc(["call", B, "kv.v1.KeyValue/get", '{"key":"y"}', ...idl]);
    expect(miss.code).toBe(5);
    const list = await ringrpc(["list", B, ...idl]);
    expect(lines(list.stdout)).toEqual(["kv.v1.KeyValue"]);
  });
});

describe("ringrpc health", () => {
  test("SERVING (exit 0) overall and per service; SERVICE_UNKNOWN (exit 1); a dead server (exit 1, one line)", async () => {
    expect(await ringrpc(["health", T])).toEqual({ code: 0, stdout: "SERVING\n", stderr: "" });
    expect(await ringrpc(["health", B, "kv.v1.KeyValue"])).toEqual({ code: 0, stdout: "SERVING\n", stderr: "" });
    expect(await ringrpc(["health", T, "kv.v9.Nope"])).toEqual({ code: 1, stdout: "SERVICE_UNKNOWN\n", stderr: "" });
    const dead = await ringrpc(["health", "127.0.0.1:1", "--timeout", "2s"]);
    expect(dead.code).toBe(1);
    expect(lines(dead.stdout)).toHaveLength(1);
    expect(dead.stdout.startsWith("UNAVAILABLE: ")).toBe(true);
  });
});
