/**
 * The bench server's former path, kept so tools that start it here (the
 * project's before-stop latency check, commands recorded in older
 * bench/RESULTS.md runs) keep working: it only runs bench/server/server.ts,
 * the benchmark's own server. New code starts that file directly.
 */
import "../../bench/server/server.ts";
