/**
 * The provided buffer ring of a ring (buffer group 0) that multishot recv
 * picks buffers from: setup with liburing 2.3's io_uring_register_buf_ring,
 * batched returns (BUF_RETURN) published with one tail advance per flush,
 * growth and teardown. The ring has room for every buffer of the mapping,
 * but only the first `initial` are handed to the kernel at setup; growing
 * hands over more. The kernel takes buffers in ring order, so every buffer
 * it has is touched in turn: the ones it never got stay unresident. Does not
 * submit anything itself.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BUF_GROUP 0
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

int bufring_setup(struct rr_ring *r, uint32_t count, uint32_t size, uint32_t initial) {
  if (count == 0) return 0;
  r->buf_count = count;
  r->buf_size = size;
  r->bufs = map_region((size_t)count * size, &r->bufs_bytes);
  r->br = map_region((size_t)count * sizeof(struct io_uring_buf), &r->br_bytes);
  r->buf_out = calloc(count, 1);
  if (!r->bufs || !r->br || !r->buf_out) return -ENOMEM;

  struct io_uring_buf_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.ring_addr = (uint64_t)(uintptr_t)r->br;
  reg.ring_entries = count;
  reg.bgid = BUF_GROUP;
  io_uring_buf_ring_init(r->br);
  int ret = io_uring_register_buf_ring(&r->uring, &reg, 0);
  if (ret < 0) return ret;

  r->feats |= RR_FEAT_BUF_RING;
  ret = bufring_grow(r, initial);
  return ret < 0 ? ret : 0;
}

int bufring_grow(struct rr_ring *r, uint32_t active) {
  if (!(r->feats & RR_FEAT_BUF_RING)) return -EINVAL;
  if (active > r->buf_count) active = r->buf_count;
  while (r->buf_active < active) add_buffer(r, r->buf_active++);
  bufring_flush(r);
  return (int)r->buf_active;
}

/* Memory is freed even when registration failed half way; unregistering a
 * group that was never registered just returns -EINVAL, which we ignore. */
void bufring_teardown(struct rr_ring *r) {
  if (r->feats & RR_FEAT_BUF_RING) io_uring_unregister_buf_ring(&r->uring, BUF_GROUP);
  r->feats &= ~(uint32_t)RR_FEAT_BUF_RING;
  unmap_region(r->br, r->br_bytes);
  unmap_region(r->bufs, r->bufs_bytes);
  free(r->buf_out);
  r->buf_active = 0;
  r->br = NULL;
  r->bufs = NULL;
  r->buf_out = NULL;
}

int bufring_return(struct rr_ring *r, uint32_t bid) {
  if (!(r->feats & RR_FEAT_BUF_RING) || bid >= r->buf_active) return -EINVAL;
  if (!r->buf_out[bid]) return -EINVAL; /* already in the ring: a double return */
  r->buf_out[bid] = 0;
  add_buffer(r, bid);
  return 0;
}

/* Publishes the pending returns with one release store of the tail; must run
 * before every submit so a re-armed recv can already use them. */
void bufring_flush(struct rr_ring *r) {
  if (r->br_pending == 0) return;
  io_uring_buf_ring_advance(r->br, (int)r->br_pending);
  r->br_pending = 0;
}

void bufring_mark_out(struct rr_ring *r, uint32_t cqe_flags) {
  if (!(cqe_flags & IORING_CQE_F_BUFFER)) return;
  uint32_t bid = cqe_flags >> IORING_CQE_BUFFER_SHIFT;
  if (bid < r->buf_count) r->buf_out[bid] = 1;
}
