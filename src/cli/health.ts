/**
 * `ringrpc health TARGET [SERVICE] [--timeout D]`: asks the server's
 * health service (ringrpc.health.v1.Health) for the status of SERVICE, or of
 * the server as a whole, and prints one line: SERVING, NOT_SERVING,
 * SERVICE_UNKNOWN, or the status of the failed call (UNAVAILABLE: ...).
 * Exit 0 only when SERVING, 1 otherwise (2 on a usage error): made for
 * scripts and container health checks. Default timeout 5 s.
 */
import { isRpcErrorLike, Status } from "../rpc/status.ts";
import { HealthClient, ServingStatus } from "../services/gen/health.ts";
import { UsageError } from "./args.ts";
import { type OpsIo, opsFlags, processIo, runOps } from "./ops-command.ts";

const USAGE = "ringrpc health TARGET [SERVICE] [--timeout 5s] [--tls-ca FILE [--tls-cert FILE --tls-key FILE]]";
const NAMES = Object.fromEntries(Object.entries(ServingStatus).map(([k, v]) => [v, k])) as Record<number, string>;

export function runHealth(argv: string[], io: OpsIo = processIo): Promise<number> {
  const withDefault = argv.some((a) => a === "--timeout" || a.startsWith("--timeout=")) ? argv : [...argv, "--timeout", "5s"];
  return runOps("health", USAGE, withDefault, opsFlags(), io, async (ctx) => {
    if (ctx.rest.length > 1) throw new UsageError(`unexpected argument "${ctx.rest[1]}"`);
    const service = ctx.rest[0] ?? "";
    let line: string;
    let ok = false;
    try {
      const { status } = await new HealthClient(ctx.remote.channel).check({ service }, ctx.remote.callOptions());
      line = NAMES[status] ?? `UNKNOWN (${status})`;
      ok = status === ServingStatus.SERVING;
    } catch (e) {
      if (!isRpcErrorLike(e)) throw e;
      if (e.code === "ringrpc.health.v1.UnknownService") line = "SERVICE_UNKNOWN";
      else if (e.status === Status.UNIMPLEMENTED) line = `UNIMPLEMENTED: the server offers no health service (${e.message})`;
      else line = `${e.code}: ${e.message}`;
    }
    io.stdout(`${line}\n`);
    return ok ? 0 : 1;
  });
}
