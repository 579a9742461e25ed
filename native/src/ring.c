/**
 * Ring lifetime: the handle table, rr_ring_create (setup-flag fallbacks,
 * command/event arrays, arena, provided buffers, eventfd), the getters, and
 * rr_ring_destroy. Does not submit or reap I/O (step.c does).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/* A handle is (generation << 8) | slot, so a handle kept after destroy never
 * names the ring that later reuses its slot. slot_handle[i] is 0 when the
 * slot is free, CLAIMED while one thread builds or tears down its ring, or
 * the live handle. Several Workers create rings at once, hence the CAS. */
#define SLOTS 256
#define SLOT_BITS 8
#define GEN_MAX ((1u << (31 - SLOT_BITS)) - 1)
#define CLAIMED (-1)

static _Atomic int slot_handle[SLOTS];
static struct rr_ring *_Atomic slot_ring[SLOTS];
static uint32_t slot_gen[SLOTS]; /* touched only by the thread holding the claim */

static int claim_slot(void) {
  for (int i = 0; i < SLOTS; i++) {
    int expected = 0;
    if (atomic_compare_exchange_strong(&slot_handle[i], &expected, CLAIMED)) return i;
  }
  return -EMFILE;
}

struct rr_ring *ring_lookup(int h) {
  if (h <= 0) return NULL;
  int i = h & (SLOTS - 1);
  if (atomic_load_explicit(&slot_handle[i], memory_order_acquire) != h) return NULL;
  return atomic_load_explicit(&slot_ring[i], memory_order_acquire);
}

/* Cached per thread: rr_step checks ownership on every call. */
static __thread int tls_tid;

static int current_tid(void) {
  if (!tls_tid) tls_tid = (int)syscall(SYS_gettid);
  return tls_tid;
}

int ring_owned_here(const struct rr_ring *r) {
  return r->owner_tid == current_tid();
}

/* liburing 2.3's private INT_FLAG_REG_RING (int_flags.h): set while the
 * ring fd is registered in the creating thread's table. */
#define LIBURING_INT_FLAG_REG_RING 1u

/* Setup flags per ring mode, newest kernels first; each older kernel rejects
 * an unknown flag with EINVAL, so we step down the list.
 *
 * RR_RING_COOP (the default) is correct by construction for a loop that
 * sleeps in another poller (Bun's epoll): COOP_TASKRUN queues completion
 * task work with TWA_SIGNAL_NO_IPI, which still wakes a task sleeping
 * interruptibly (epoll_wait returns, the task work runs on the way out and
 * posts the CQE, which signals the eventfd from our own thread). It only
 * skips the IPI to a task that is running, which enters the kernel soon
 * anyway. docs/RUNTIME.md, "Waking up", has the evidence.
 *
 * RR_RING_DEFER keeps completions as deferred task work until we enter; the
 * registered eventfd is signalled only when that list goes from empty to
 * non-empty, not while it is toggled off, and sometimes late (through RCU),
 * so an idle loop can sleep through a completion. Opt-in only, behind the
 * runtime's wake self-test. SUBMIT_ALL keeps one bad SQE from stopping the
 * rest of a batch. */
#define COOP_FLAGS (IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL)
static const unsigned coop_attempts[] = {
    COOP_FLAGS | IORING_SETUP_TASKRUN_FLAG,
    COOP_FLAGS,
    IORING_SETUP_SUBMIT_ALL,
    0,
};
static const unsigned defer_attempts[] = {
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL,
    COOP_FLAGS | IORING_SETUP_TASKRUN_FLAG,
    COOP_FLAGS,
    IORING_SETUP_SUBMIT_ALL,
    0,
};

/* The kernel's IORING_MAX_CQ_ENTRIES; asking for more is EINVAL, which the
 * fallback loop below would mistake for an unsupported setup flag. */
#define MAX_CQ_ENTRIES 65536u

static int init_uring(struct rr_ring *r, uint32_t entries, uint32_t evt_cap, int mode) {
  const unsigned *attempts = mode == RR_RING_DEFER ? defer_attempts : coop_attempts;
  size_t count = mode == RR_RING_DEFER ? sizeof defer_attempts / sizeof defer_attempts[0]
                                       : sizeof coop_attempts / sizeof coop_attempts[0];
  int ret = -EINVAL;
  for (size_t i = 0; i < count; i++) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = attempts[i] | IORING_SETUP_CQSIZE;
    /* Room for at least one full event array of completions, so a step
     * that reaps evt_cap CQEs does not routinely hit the overflow list. */
    uint32_t cq = entries * 2 > evt_cap ? entries * 2 : evt_cap;
    p.cq_entries = cq > MAX_CQ_ENTRIES ? MAX_CQ_ENTRIES : cq;
    ret = io_uring_queue_init_params(entries, &r->uring, &p);
    if (ret == 0) {
      unsigned f = attempts[i];
      if (f & IORING_SETUP_SINGLE_ISSUER) r->feats |= RR_FEAT_SINGLE_ISSUER;
      if (f & IORING_SETUP_DEFER_TASKRUN) r->feats |= RR_FEAT_DEFER_TASKRUN;
      if (f & IORING_SETUP_COOP_TASKRUN) r->feats |= RR_FEAT_COOP_TASKRUN;
      if (f & IORING_SETUP_TASKRUN_FLAG) r->feats |= RR_FEAT_TASKRUN_FLAG;
      return 0;
    }
    if (ret != -EINVAL) return ret;
  }
  return ret;
}

static void *alloc_words(uint32_t count, uint32_t words) {
  void *p = NULL;
  size_t bytes = (size_t)count * words * sizeof(int32_t);
  if (posix_memalign(&p, 64, bytes) != 0) return NULL;
  memset(p, 0, bytes);
  return p;
}

/* Frees whatever part of r was built; used by both create's error path and
 * destroy. The uring must be torn down before its buffers are unmapped. */
static void release(struct rr_ring *r, int uring_up) {
  if (uring_up && !ring_owned_here(r)) {
    /* The registered ring fd is an index into the creator's table; from
     * here liburing would unregister whatever this thread has at that
     * index. The creator's entry goes when that thread exits. */
    r->uring.int_flags &= ~LIBURING_INT_FLAG_REG_RING;
  }
  if (uring_up) {
    bufring_teardown(r);
    if (r->feats & RR_FEAT_EVENTFD) io_uring_unregister_eventfd(&r->uring);
    io_uring_queue_exit(&r->uring);
  } else {
    r->feats &= ~(uint32_t)RR_FEAT_BUF_RING;
    bufring_teardown(r);
  }
  if (r->efd >= 0) close(r->efd);
  unmap_region(r->arena, r->arena_map);
  free(r->cmds);
  free(r->evts);
  free(r->sq_ts);
  free(r->synth);
  free(r);
}

int rr_ring_create(uint32_t entries, uint32_t cmd_cap, uint32_t evt_cap, uint32_t arena_bytes,
                   uint32_t buf_count, uint32_t buf_size, uint32_t buf_initial, int mode) {
  if (entries == 0 || entries > 32768 || cmd_cap == 0 || evt_cap == 0) return -EINVAL;
  if (cmd_cap > (1u << 20) || evt_cap > (1u << 20)) return -EINVAL;
  if (!bufring_valid_geometry(buf_count, buf_size, buf_initial)) return -EINVAL;
  if ((mode & ~RR_WHOLE_BUFS) != RR_RING_COOP && (mode & ~RR_WHOLE_BUFS) != RR_RING_DEFER) return -EINVAL;
  int whole_bufs = (mode & RR_WHOLE_BUFS) != 0;
  mode &= ~RR_WHOLE_BUFS;

  struct rr_ring *r = calloc(1, sizeof *r);
  if (!r) return -ENOMEM;
  r->efd = -1;

  int ret = init_uring(r, entries, evt_cap, mode);
  if (ret < 0) {
    release(r, 0);
    return ret;
  }
  /* Saves the fd lookup on every enter; optional (5.18+), so a failure only
   * costs that lookup. */
  io_uring_register_ring_fd(&r->uring);
  r->owner_tid = current_tid();

  r->cmd_cap = cmd_cap;
  r->evt_cap = evt_cap;
  r->sq_entries = r->uring.sq.ring_entries;
  r->cmds = alloc_words(cmd_cap, RR_CMD_WORDS);
  r->evts = alloc_words(evt_cap, RR_EVT_WORDS);
  r->sq_ts = calloc(r->sq_entries, sizeof *r->sq_ts);
  r->synth_cap = cmd_cap;
  r->synth = calloc(r->synth_cap, sizeof *r->synth);
  r->arena_bytes = arena_bytes;
  r->arena = map_region(arena_bytes, &r->arena_map);
  if (!r->cmds || !r->evts || !r->sq_ts || !r->synth || (arena_bytes && !r->arena)) {
    release(r, 1);
    return -ENOMEM;
  }

  ret = bufring_setup(r, buf_count, buf_size, buf_initial, !whole_bufs);
  if (ret < 0) {
    release(r, 1);
    return ret;
  }

  r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (r->efd < 0) {
    ret = -errno;
    release(r, 1);
    return ret;
  }
  ret = io_uring_register_eventfd(&r->uring, r->efd);
  if (ret < 0) {
    release(r, 1);
    return ret;
  }
  r->feats |= RR_FEAT_EVENTFD;

  int slot = claim_slot();
  if (slot < 0) {
    release(r, 1);
    return slot;
  }
  slot_gen[slot] = slot_gen[slot] >= GEN_MAX ? 1 : slot_gen[slot] + 1;
  r->handle = (int)(slot_gen[slot] << SLOT_BITS) | slot;
  atomic_store_explicit(&slot_ring[slot], r, memory_order_release);
  atomic_store_explicit(&slot_handle[slot], r->handle, memory_order_release);
  return r->handle;
}

void *rr_ring_mem(int h, int which) {
  struct rr_ring *r = ring_lookup(h);
  if (!r) return NULL;
  switch (which) {
  case RR_MEM_CMDS: return r->cmds;
  case RR_MEM_EVTS: return r->evts;
  case RR_MEM_ARENA: return r->arena;
  case RR_MEM_BUFS: return r->bufs;
  default: return NULL;
  }
}

int rr_bufring_grow(int h, uint32_t active) {
  struct rr_ring *r = ring_lookup(h);
  if (!r) return -EBADF;
  if (!ring_owned_here(r)) return -EEXIST;
  return bufring_grow(r, active);
}

int rr_ring_setup_flags(int h) {
  struct rr_ring *r = ring_lookup(h);
  return r ? (int)r->feats : -EBADF;
}

int rr_ring_eventfd(int h) {
  struct rr_ring *r = ring_lookup(h);
  return r ? r->efd : -EBADF;
}

int rr_ring_eventfd_enable(int h, int on) {
  struct rr_ring *r = ring_lookup(h);
  if (!r) return -EBADF;
  return io_uring_cq_eventfd_toggle(&r->uring, on != 0);
}

/* Cancels everything still in flight and waits (bounded) for it, so no
 * request can still be writing into the arena or the provided buffers when
 * they are unmapped. Only the creator may (SINGLE_ISSUER); when another
 * thread destroys the ring (its Worker is gone), closing the ring fd makes
 * the kernel cancel instead. */
static void cancel_all(struct rr_ring *r) {
  if (!ring_owned_here(r)) return;
  struct io_uring_sync_cancel_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.flags = IORING_ASYNC_CANCEL_ANY;
  reg.fd = -1;
  reg.timeout.tv_sec = 0;
  reg.timeout.tv_nsec = 200 * 1000 * 1000;
  io_uring_register_sync_cancel(&r->uring, &reg);
}

int rr_ring_destroy(int h) {
  if (h <= 0) return -EBADF;
  int i = h & (SLOTS - 1);
  int expected = h;
  /* Only the caller that moves the slot from h to CLAIMED tears the ring
   * down, so a second (or concurrent) destroy gets -EBADF. */
  if (!atomic_compare_exchange_strong(&slot_handle[i], &expected, CLAIMED)) return -EBADF;
  struct rr_ring *r = atomic_load_explicit(&slot_ring[i], memory_order_acquire);
  atomic_store_explicit(&slot_ring[i], NULL, memory_order_release);
  cancel_all(r);
  release(r, 1);
  atomic_store_explicit(&slot_handle[i], 0, memory_order_release);
  return 0;
}
