/**
 * `ringrpc list HOST:PORT [SERVICE] [--idl FILE]...`: the services a server
 * offers, one name per line, or one service's methods as the paths `call`
 * takes (`kv.v1.KeyValue/get`), one per line with its kind. From the
 * server's reflection, or from `--idl` files when it has none.
 */
import { UsageError } from "./args.ts";
import { type OpsIo, opsFlags, processIo, runOps } from "./ops-command.ts";
import { serviceNotFound } from "./schema-source.ts";

const USAGE = "ringrpc list HOST:PORT [SERVICE] [--timeout 2s] [--idl FILE.ridl]...";

export function runList(argv: string[], io: OpsIo = processIo): Promise<number> {
  return runOps("list", USAGE, argv, opsFlags(), io, async (ctx) => {
    if (ctx.rest.length > 1) throw new UsageError(`unexpected argument "${ctx.rest[1]}"`);
    const services = await ctx.schema.services();
    const wanted = ctx.rest[0];
    if (wanted === undefined) {
      for (const s of services) io.stdout(`${s.name}\n`);
      return 0;
    }
    const s = services.find((x) => x.name === wanted);
    if (s === undefined) throw serviceNotFound(wanted, services.map((x) => x.name));
    for (const m of s.methods) io.stdout(`${s.name}/${m.name} ${m.kind}\n`);
    return 0;
  });
}
