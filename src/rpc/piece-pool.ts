/**
 * PiecePool: the fixed-size buffers (PIECE_BYTES) in which a server's
 * connections assemble frames that arrive split across reads. Pieces go
 * back to the pool when their frame is complete or its connection ends, and
 * the next split frame takes them again, so a flood of unfinished frames,
 * evicted by the memory budget and replaced by new ones, reuses the same
 * memory instead of leaving garbage for the collector (which would keep the
 * process's RSS above its budget long after the flood). The pool keeps at
 * most `maxPieces` spare pieces; it never limits how many are taken (the
 * memory budget does). Owns only the free list.
 */

/** Size of every piece. */
export const PIECE_BYTES = 16 * 1024;

export class PiecePool {
  private readonly free: Uint8Array[] = [];

  constructor(private readonly maxPieces: number) {}

  take(): Uint8Array {
    return this.free.pop() ?? new Uint8Array(PIECE_BYTES);
  }

  give(piece: Uint8Array): void {
    if (this.free.length < this.maxPieces) this.free.push(piece);
  }
}
