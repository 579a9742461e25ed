/**
 * The TLS flags of the operating commands (list, describe, call, health):
 * `--tls` (TLS with the default trust store), `--tls-ca FILE`,
 * `--tls-cert FILE --tls-key FILE` (mutual TLS) and `--tls-server-name
 * NAME`; any of them turns TLS on. Reads the PEM files and hands back the
 * client options, or null for plain TCP. A missing file or a half pair is a
 * usage error naming the flag.
 */
import { readFileSync } from "node:fs";
import type { TlsClientOptions } from "../runtime/types.ts";
import { type ParsedArgs, UsageError } from "./args.ts";

export const TLS_VALUE_FLAGS = ["tls-ca", "tls-cert", "tls-key", "tls-server-name"] as const;
export const TLS_BOOLEAN_FLAGS = ["tls"] as const;

function pemFile(args: ParsedArgs, flag: string): string | undefined {
  const path = args.flags.get(flag);
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`--${flag} ${path}: cannot read it (${(e as { code?: string }).code ?? (e as Error).message})`);
  }
}

export function tlsFromFlags(args: ParsedArgs): TlsClientOptions | null {
  const any = args.bools.has("tls") || TLS_VALUE_FLAGS.some((f) => args.flags.has(f));
  if (!any) return null;
  if (args.flags.has("tls-cert") !== args.flags.has("tls-key")) throw new UsageError("--tls-cert and --tls-key go together (this client's certificate and its key)");
  const tls: TlsClientOptions = {};
  const ca = pemFile(args, "tls-ca");
  const cert = pemFile(args, "tls-cert");
  const key = pemFile(args, "tls-key");
  const name = args.flags.get("tls-server-name");
  if (ca !== undefined) tls.ca = ca;
  if (cert !== undefined && key !== undefined) Object.assign(tls, { cert, key });
  if (name !== undefined) tls.serverName = name;
  return tls;
}
