/**
 * The logger of the runtimes of this thread: where the io_uring driver
 * says that its wake-ups are late, that it switched wake mode, or that a
 * loop step failed. One per thread (each Worker has its own copy of this
 * module, so nothing is shared): the launcher sets the serve() logger in
 * each worker before it creates the worker's runtime; elsewhere (a client,
 * a test) it is ringrpc's text logger on stderr.
 */
import { createLogger, type Logger } from "./logger.ts";

let current: Logger | null = null;

export function runtimeLogger(): Logger {
  current ??= createLogger("text");
  return current;
}

export function setRuntimeLogger(logger: Logger): void {
  current = logger;
}
