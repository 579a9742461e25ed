/**
 * What the operating commands (list, describe, call, health) share: their
 * flags (`--timeout`, `-H key:value`, `--idl FILE`, the TLS flags of
 * tls-flags.ts), the TARGET (HOST:PORT, a list, or dns:///NAME:PORT),
 * the connection (remote.ts) and schema source (schema-source.ts) they run
 * against, closing both, and turning a failure into its lines and exit code
 * (status-report.ts). A usage error is one line naming the problem and the
 * command's usage, exit 2.
 */
import { type FlagSpec, parseArgs, type ParsedArgs, UsageError } from "./args.ts";
import type { JsonMapping } from "./dynamic/json-mapping.ts";
import { parseDuration, parseHeaders, parseTarget, Remote } from "./remote.ts";
import { LocalSchema, ReflectionSchema, type SchemaSource } from "./schema-source.ts";
import { reportFailure } from "./status-report.ts";
import { TLS_BOOLEAN_FLAGS, TLS_VALUE_FLAGS, tlsFromFlags } from "./tls-flags.ts";

/** Where a command reads and writes; tests give their own. */
export interface OpsIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
  stdinIsTty: boolean;
}

export const processIo: OpsIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  readStdin: () => Bun.stdin.text(),
  stdinIsTty: process.stdin.isTTY === true,
};

export interface OpsContext {
  args: ParsedArgs;
  /** The positionals after TARGET. */
  rest: string[];
  remote: Remote;
  schema: SchemaSource;
  io: OpsIo;
  /** Set by a command once it knows the IDL, so a typed error prints with its fields. */
  json: JsonMapping | null;
}

/** The flags every operating command takes, plus its own. */
export function opsFlags(extra: FlagSpec = {}): FlagSpec {
  return {
    values: ["timeout", ...TLS_VALUE_FLAGS, ...(extra.values ?? [])],
    booleans: [...TLS_BOOLEAN_FLAGS, ...(extra.booleans ?? [])],
    repeated: ["idl", "header", ...(extra.repeated ?? [])],
    short: { H: "header", ...extra.short },
  };
}

/** Parses, connects, runs `body`, closes; returns the exit code. */
export async function runOps(name: string, usage: string, argv: readonly string[], spec: FlagSpec, io: OpsIo, body: (ctx: OpsContext) => Promise<number>): Promise<number> {
  const command = `ringrpc ${name}`;
  let args: ParsedArgs;
  let remote: Remote | null = null;
  const err = (line: string) => io.stderr(`${line}\n`);
  try {
    args = parseArgs(argv, spec);
    const target = parseTarget(args.positionals[0]);
    const timeout = args.flags.get("timeout");
    const timeoutMs = timeout === undefined ? undefined : parseDuration(timeout, "timeout");
    const metadata = parseHeaders(args.lists.get("header") ?? []);
    const idl = args.lists.get("idl") ?? [];
    const local = idl.length > 0 ? new LocalSchema(idl) : null;
    const tls = tlsFromFlags(args);
    remote = await Remote.open(target, { timeoutMs, metadata: Object.keys(metadata).length > 0 ? metadata : undefined, tls });
    const ctx: OpsContext = {
      args,
      rest: args.positionals.slice(1),
      remote,
      schema: local ?? new ReflectionSchema(remote.channel, remote.callOptions()),
      io,
      json: null,
    };
    try {
      return await body(ctx);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      return reportFailure(e, command, ctx.json, err);
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`${command}: ${e.message} (usage: ${usage})`);
    return 2;
  } finally {
    await remote?.close();
  }
}
