/**
 * Shim-internal declarations shared by the .c files of native/src: the ring
 * record behind a handle and the few cross-file helpers. Nothing here is part
 * of the ABI; every function is hidden so the .so exports only rr_* names
 * from ringrpc.h.
 */
#ifndef RINGRPC_INTERNAL_H
#define RINGRPC_INTERNAL_H

#include <liburing.h>
#include <stddef.h>
#include <stdint.h>

#include "ringrpc.h"

#define HIDDEN __attribute__((visibility("hidden")))

_Static_assert(RR_CQE_F_BUFFER == IORING_CQE_F_BUFFER && RR_CQE_F_MORE == IORING_CQE_F_MORE &&
                   RR_CQE_BUFFER_SHIFT == IORING_CQE_BUFFER_SHIFT,
               "the ABI's CQE flags must be the kernel's: JS reads them as they come");

/* A completion the shim made up itself (a command it could not prepare).
 * These wait here, ahead of kernel CQEs, until there is room in the event
 * array. */
struct synth_event {
  int32_t user_data;
  int32_t res;
};

/* One provided buffer, as the shim tracks it (see rr_ring.buf_state). */
struct buf_state {
  uint32_t next_off;
  uint32_t chunks; /* a 256 KiB buffer can hold that many 1-byte chunks */
  uint8_t in_kernel;
};

struct rr_ring {
  struct io_uring uring;
  int handle;
  int owner_tid; /* the creating thread: the only one that may enter */
  uint32_t feats; /* RR_FEAT_* */

  uint32_t cmd_cap, evt_cap;
  int32_t *cmds;
  int32_t *evts;

  uint8_t *arena;
  size_t arena_bytes; /* as asked for: the bound offsets are checked against */
  size_t arena_map;   /* as mapped: page rounded */

  /* Provided buffer ring, group 0. The kernel has buffer bid while
   * buf_state[bid].in_kernel is 1: untouched, or, on an incremental ring,
   * partly filled (its next chunk starts at .next_off). .chunks counts the
   * chunks of it JS holds (CQEs copied out, not yet returned). A buffer goes
   * back to the kernel when both are 0, so BUF_RETURN can reject a return
   * with nothing out, which would otherwise hand the same memory to the
   * kernel twice. */
  struct io_uring_buf_ring *br;
  size_t br_bytes;
  uint8_t *bufs;
  size_t bufs_bytes;
  uint32_t buf_count, buf_size;
  /* Buffers [0, buf_active) have been handed to the kernel (the rest of the
   * mapping is never touched, so it is not resident); bufring_grow raises it. */
  uint32_t buf_active;
  uint32_t br_pending; /* buffers added since the last advance */
  struct buf_state *buf_state;

  int efd;

  /* One timespec per SQ slot: the kernel reads a TIMEOUT's timespec when it
   * consumes the SQE, which may be a later enter than the one we tried (if
   * that enter failed), but never after the slot itself is reused. */
  struct __kernel_timespec *sq_ts;
  uint32_t sq_entries;

  struct synth_event *synth;
  uint32_t synth_head, synth_len, synth_cap;

  uint64_t stats[RR_STAT__COUNT];
};

/* ring.c: the handle table. Returns NULL for a handle that is not live. */
HIDDEN struct rr_ring *ring_lookup(int h);
/* ring.c: 1 when the calling thread created r. */
HIDDEN int ring_owned_here(const struct rr_ring *r);

/* mem.c helpers: anonymous private mappings for memory the kernel touches. */
HIDDEN void *map_region(size_t bytes, size_t *mapped);
HIDDEN void unmap_region(void *p, size_t mapped);

/* bufring.c */
HIDDEN int bufring_setup(struct rr_ring *r, uint32_t count, uint32_t size, uint32_t initial, int incremental);
HIDDEN int bufring_grow(struct rr_ring *r, uint32_t active);
HIDDEN void bufring_teardown(struct rr_ring *r);
HIDDEN int bufring_return(struct rr_ring *r, uint32_t bid);
HIDDEN void bufring_flush(struct rr_ring *r);
/* A CQE was copied out: returns where its data starts in its buffer (0 when it carries none). */
HIDDEN uint32_t bufring_chunk_out(struct rr_ring *r, int32_t res, uint32_t cqe_flags);
HIDDEN int bufring_valid_geometry(uint32_t count, uint32_t size, uint32_t initial);

#endif
