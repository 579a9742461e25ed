/**
 * Hex dumps for fuzz reports: offset, 16 bytes in hex, the printable ASCII;
 * long inputs keep their head and tail. Also the one-line hex a replay
 * takes (`--hex`). Owns formatting only.
 */

/** At most this many lines; the middle of a longer input is elided. */
const MAX_LINES = 24;

export function hexLine(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

export function hexDump(bytes: Uint8Array, indent = "  "): string {
  const lines: string[] = [];
  const rows = Math.ceil(bytes.length / 16);
  for (let row = 0; row < rows; row++) {
    if (rows > MAX_LINES && row === MAX_LINES / 2) {
      const skip = rows - MAX_LINES;
      lines.push(`${indent}... ${skip} lines (${skip * 16} bytes) ...`);
      row += skip - 1;
      continue;
    }
    const chunk = bytes.subarray(row * 16, row * 16 + 16);
    const hex = [...chunk].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = [...chunk].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${indent}${(row * 16).toString(16).padStart(6, "0")}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (bytes.length === 0) lines.push(`${indent}(empty)`);
  return lines.join("\n");
}
