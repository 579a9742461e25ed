/**
 * Reads JSC's GC log (BUN_JSC_logGC=1 on stderr) for the heap bytes a
 * process allocated between two marker lines it printed. Owns the markers
 * and the log parsing, nothing else.
 */

export const ALLOC_START = "client-profile: allocs start";
export const ALLOC_END = "client-profile: allocs end";

/**
 * The sum of (heap size when a collection starts - heap size the previous
 * collection left), from the last collection logged before the start marker
 * to the first one started after the end marker (the caller forces one there).
 * Exact with a non-concurrent collector (BUN_JSC_useConcurrentGC=0); sizes are
 * logged in KiB.
 */
export function allocatedBetweenMarkers(stderr: string): { bytes: number; collections: number } {
  const from = stderr.indexOf(ALLOC_START);
  const to = stderr.indexOf(ALLOC_END);
  if (from < 0 || to < from) throw new Error("the GC log has no start and end markers in order");
  const before = [...stderr.slice(0, from).matchAll(/=> (\d+)kb/g)];
  if (before.length === 0) throw new Error("no collection logged before the start marker: was BUN_JSC_logGC=1 set?");
  let left = Number(before[before.length - 1]![1]);
  let bytes = 0;
  let collections = 0;
  for (const m of stderr.slice(from).matchAll(/START M (\d+)kb|=> (\d+)kb/g)) {
    if (m[1] === undefined) {
      left = Number(m[2]);
      continue;
    }
    bytes += (Number(m[1]) - left) * 1024;
    if (from + m.index! > to) return { bytes, collections };
    collections++;
  }
  throw new Error("no collection logged after the end marker");
}
