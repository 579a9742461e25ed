/**
 * The provided buffer ring of a ring (buffer group 0) that multishot recv
 * picks buffers from: setup with liburing 2.3's io_uring_register_buf_ring,
 * who holds each buffer (the kernel, JS's chunks of it), batched returns
 * (BUF_RETURN) published with one tail advance per flush, growth and
 * teardown. The ring has room for every buffer of the mapping, but only the
 * first `initial` are handed to the kernel at setup; growing hands over
 * more. The kernel takes buffers in ring order, so every buffer it has is
 * touched in turn: the ones it never got stay unresident.
 *
 * Where the kernel has it (6.12+), the ring is incremental: a recv takes
 * only the bytes it needs from the head buffer, which stays the head (its
 * CQE says IORING_CQE_F_BUF_MORE) until it is full, so a stream of small
 * segments fills one buffer instead of taking one each. The shim keeps each
 * buffer's next offset, hands it to JS with every chunk, and gives a buffer
 * back only once the kernel has moved past it and JS has returned every
 * chunk. On an older kernel every CQE ends its buffer and the same rules
 * reduce to one chunk per buffer. Does not submit anything itself.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BUF_GROUP 0

/* Kernel 6.12's names, which liburing 2.3 does not have yet. */
#ifndef IOU_PBUF_RING_INC
#define IOU_PBUF_RING_INC 2
#endif
#ifndef IORING_CQE_F_BUF_MORE
#define IORING_CQE_F_BUF_MORE (1U << 4)
#endif

/* struct io_uring_buf_reg as kernels since 5.19 read it: liburing 2.3 calls
 * the flags field `pad`, newer ones `flags`. */
struct buf_reg {
  uint64_t ring_addr;
  uint32_t ring_entries;
  uint16_t bgid;
  uint16_t flags;
  uint64_t resv[3];
};
_Static_assert(sizeof(struct buf_reg) == sizeof(struct io_uring_buf_reg), "the kernel's buffer ring registration record");
/* The kernel rejects buffer rings of 65536 entries or more; bids are 16 bits. */
#define MAX_BUFS 32768u

int bufring_valid_geometry(uint32_t count, uint32_t size, uint32_t initial) {
  if (count == 0) return initial == 0; /* no buffer ring at all */
  if (count > MAX_BUFS || (count & (count - 1)) != 0) return 0;
  if (initial == 0 || initial > count) return 0;
  if (size == 0 || size % 64 != 0) return 0;
  /* bufs_bytes must fit a size_t and each buffer's length a u32 */
  if ((uint64_t)count * size > (uint64_t)SIZE_MAX / 2) return 0;
  return 1;
}

static void add_buffer(struct rr_ring *r, uint32_t bid) {
  io_uring_buf_ring_add(r->br, r->bufs + (size_t)bid * r->buf_size, r->buf_size, (unsigned short)bid,
                        io_uring_buf_ring_mask(r->buf_count), (int)r->br_pending);
  r->br_pending++;
}

static void give_to_kernel(struct rr_ring *r, uint32_t bid) {
  r->buf_state[bid].in_kernel = 1;
  r->buf_state[bid].next_off = 0;
  add_buffer(r, bid);
}

/* An older kernel rejects the unknown INC flag with EINVAL. */
static int register_ring(struct rr_ring *r, uint32_t count, uint16_t flags) {
  struct buf_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.ring_addr = (uint64_t)(uintptr_t)r->br;
  reg.ring_entries = count;
  reg.bgid = BUF_GROUP;
  reg.flags = flags;
  io_uring_buf_ring_init(r->br);
  return io_uring_register_buf_ring(&r->uring, (struct io_uring_buf_reg *)&reg, 0);
}

int bufring_setup(struct rr_ring *r, uint32_t count, uint32_t size, uint32_t initial, int incremental) {
  if (count == 0) return 0;
  r->buf_count = count;
  r->buf_size = size;
  r->bufs = map_region((size_t)count * size, &r->bufs_bytes);
  r->br = map_region((size_t)count * sizeof(struct io_uring_buf), &r->br_bytes);
  r->buf_state = calloc(count, sizeof *r->buf_state);
  if (!r->bufs || !r->br || !r->buf_state) return -ENOMEM;

  int ret = incremental ? register_ring(r, count, IOU_PBUF_RING_INC) : -EINVAL;
  if (ret == 0) r->feats |= RR_FEAT_BUF_INC;
  else if (ret == -EINVAL) ret = register_ring(r, count, 0);
  if (ret < 0) return ret;

  r->feats |= RR_FEAT_BUF_RING;
  ret = bufring_grow(r, initial);
  return ret < 0 ? ret : 0;
}

int bufring_grow(struct rr_ring *r, uint32_t active) {
  if (!(r->feats & RR_FEAT_BUF_RING)) return -EINVAL;
  if (active > r->buf_count) active = r->buf_count;
  while (r->buf_active < active) give_to_kernel(r, r->buf_active++);
  bufring_flush(r);
  return (int)r->buf_active;
}

/* Memory is freed even when registration failed half way; unregistering a
 * group that was never registered just returns -EINVAL, which we ignore. */
void bufring_teardown(struct rr_ring *r) {
  if (r->feats & RR_FEAT_BUF_RING) io_uring_unregister_buf_ring(&r->uring, BUF_GROUP);
  r->feats &= ~(uint32_t)(RR_FEAT_BUF_RING | RR_FEAT_BUF_INC);
  unmap_region(r->br, r->br_bytes);
  unmap_region(r->bufs, r->bufs_bytes);
  free(r->buf_state);
  r->buf_active = 0;
  r->br = NULL;
  r->bufs = NULL;
  r->buf_state = NULL;
}

int bufring_return(struct rr_ring *r, uint32_t bid) {
  if (!(r->feats & RR_FEAT_BUF_RING) || bid >= r->buf_active) return -EINVAL;
  struct buf_state *b = &r->buf_state[bid];
  if (b->chunks == 0) return -EINVAL; /* nothing of it is out: a double return */
  if (--b->chunks == 0 && !b->in_kernel) give_to_kernel(r, bid);
  return 0;
}

/* Publishes the pending returns with one release store of the tail; must run
 * before every submit so a re-armed recv can already use them. */
void bufring_flush(struct rr_ring *r) {
  if (r->br_pending == 0) return;
  io_uring_buf_ring_advance(r->br, (int)r->br_pending);
  r->br_pending = 0;
}

uint32_t bufring_chunk_out(struct rr_ring *r, int32_t res, uint32_t cqe_flags) {
  if (!(cqe_flags & IORING_CQE_F_BUFFER)) return 0;
  uint32_t bid = cqe_flags >> IORING_CQE_BUFFER_SHIFT;
  if (bid >= r->buf_active) return 0;
  struct buf_state *b = &r->buf_state[bid];
  uint32_t off = b->next_off;
  if (cqe_flags & IORING_CQE_F_BUF_MORE) {
    if (res > 0) b->next_off += (uint32_t)res;
  } else {
    b->in_kernel = 0; /* the kernel moved past it */
  }
  /* JS returns a chunk only for data (streamOp); a CQE without data that
   * still ended a buffer leaves nothing for JS to return. */
  if (res > 0) b->chunks++;
  else if (!b->in_kernel && b->chunks == 0) give_to_kernel(r, bid);
  return off;
}
