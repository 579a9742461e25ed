/**
 * The loop step: turns JS's command records into SQEs, submits them with one
 * io_uring_enter, and copies completions into the event array with
 * io_uring_for_each_cqe plus one io_uring_cq_advance. Also keeps the
 * per-ring counters behind rr_ring_stat. Ring setup lives in ring.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

static void push_synth(struct rr_ring *r, int32_t ud, int32_t res) {
  struct synth_event *e = &r->synth[r->synth_head + r->synth_len++];
  e->user_data = ud;
  e->res = res;
}

/* Makes room for one synthetic event per command of this step before any
 * command is touched, so running out of memory can only fail the whole step
 * up front, never drop a single op's completion half way. */
static int reserve_synth(struct rr_ring *r, uint32_t more) {
  if (r->synth_head + r->synth_len + more <= r->synth_cap) return 0;
  if (r->synth_head > 0) {
    memmove(r->synth, r->synth + r->synth_head, r->synth_len * sizeof *r->synth);
    r->synth_head = 0;
    if (r->synth_len + more <= r->synth_cap) return 0;
  }
  uint32_t cap = r->synth_cap * 2;
  while (cap < r->synth_len + more) cap *= 2;
  struct synth_event *p = realloc(r->synth, cap * sizeof *p);
  if (!p) return -ENOMEM;
  r->synth = p;
  r->synth_cap = cap;
  return 0;
}

static void count_submit(struct rr_ring *r, int ret) {
  r->stats[RR_STAT_ENTERS]++;
  if (ret > 0) r->stats[RR_STAT_SUBMITTED] += (uint64_t)ret;
}

/* When the SQ is full mid-batch we submit what is queued and carry on; the
 * kernel copies what it needs from each SQE when it consumes it. */
static struct io_uring_sqe *next_sqe(struct rr_ring *r, int *err) {
  struct io_uring_sqe *sqe = io_uring_get_sqe(&r->uring);
  if (sqe) return sqe;
  bufring_flush(r);
  int ret = io_uring_submit(&r->uring);
  count_submit(r, ret);
  if (ret < 0) {
    *err = ret;
    return NULL;
  }
  sqe = io_uring_get_sqe(&r->uring);
  if (!sqe) *err = -EBUSY;
  return sqe;
}

static int arena_span(const struct rr_ring *r, int32_t off, int32_t len, void **out) {
  uint64_t o = (uint32_t)off, l = (uint32_t)len;
  if (!r->arena || o + l > r->arena_bytes) return -EINVAL;
  *out = r->arena + o;
  return 0;
}

/* Checks what can be checked before taking an SQE, so a bad command never
 * leaves a half-prepared SQE behind. */
static int validate(const struct rr_ring *r, const int32_t *c, void **span) {
  int32_t op = c[RR_CMD_OP];
  if (c[RR_CMD_FLAGS] != 0) return -EINVAL; /* RR_CMDF_LINK_TIMEOUT is reserved, not implemented */
  if ((uint32_t)c[RR_CMD_UD] == RR_UD_INTERNAL) return -EINVAL;
  switch (op) {
  case RR_OP_RECV:
  case RR_OP_SEND:
  case RR_OP_CONNECT: return arena_span(r, c[RR_CMD_OFF], c[RR_CMD_LEN], span);
  case RR_OP_TIMEOUT: return c[RR_CMD_ARG] < 0 ? -EINVAL : 0;
  case RR_OP_RECV_MULTI: return (r->feats & RR_FEAT_BUF_RING) ? 0 : -EINVAL;
  case RR_OP_NOP:
  case RR_OP_ACCEPT_MULTI:
  case RR_OP_CLOSE:
  case RR_OP_CANCEL:
  case RR_OP_BUF_RETURN:
  case RR_OP_SHUTDOWN: return 0;
  default: return -EINVAL;
  }
}

static void prep_sqe(struct rr_ring *r, struct io_uring_sqe *sqe, const int32_t *c, void *span) {
  int fd = c[RR_CMD_FD];
  uint32_t len = (uint32_t)c[RR_CMD_LEN];
  int arg = c[RR_CMD_ARG];
  uint64_t ud = (uint32_t)c[RR_CMD_UD];
  switch (c[RR_CMD_OP]) {
  case RR_OP_NOP: io_uring_prep_nop(sqe); break;
  case RR_OP_ACCEPT_MULTI: io_uring_prep_multishot_accept(sqe, fd, NULL, NULL, SOCK_CLOEXEC); break;
  case RR_OP_RECV: io_uring_prep_recv(sqe, fd, span, len, arg); break;
  case RR_OP_RECV_MULTI:
    io_uring_prep_recv_multishot(sqe, fd, NULL, 0, arg);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = 0;
    break;
  case RR_OP_SEND: io_uring_prep_send(sqe, fd, span, len, MSG_NOSIGNAL | arg); break;
  case RR_OP_CLOSE: io_uring_prep_close(sqe, fd); break;
  case RR_OP_TIMEOUT: {
    struct __kernel_timespec *ts = &r->sq_ts[sqe - r->uring.sq.sqes];
    ts->tv_sec = arg / 1000;
    ts->tv_nsec = (long long)(arg % 1000) * 1000000;
    io_uring_prep_timeout(sqe, ts, 0, 0);
    break;
  }
  case RR_OP_CANCEL:
    io_uring_prep_cancel64(sqe, (uint32_t)arg, 0);
    ud = RR_UD_INTERNAL;
    break;
  case RR_OP_CONNECT: io_uring_prep_connect(sqe, fd, span, len); break;
  case RR_OP_SHUTDOWN: io_uring_prep_shutdown(sqe, fd, arg); break;
  }
  io_uring_sqe_set_data64(sqe, ud);
}

/* Returns 0 when the command is queued (or, for BUF_RETURN, done), or the
 * res of the synthetic event that stands in for its completion. */
static int run_command(struct rr_ring *r, const int32_t *c) {
  void *span = NULL;
  int ret = validate(r, c, &span);
  if (ret < 0) return ret;
  if (c[RR_CMD_OP] == RR_OP_BUF_RETURN) return bufring_return(r, (uint32_t)c[RR_CMD_ARG]);
  int err = 0;
  struct io_uring_sqe *sqe = next_sqe(r, &err);
  if (!sqe) return err;
  prep_sqe(r, sqe, c, span);
  return 0;
}

/* The ring keeps working after these: the SQEs stay queued for the next
 * enter and the CQ is still worth reaping. */
static int transient(int ret) {
  return ret == -EINTR || ret == -EAGAIN || ret == -EBUSY || ret == -ETIME;
}

static uint32_t copy_events(struct rr_ring *r) {
  uint32_t n = 0;
  int32_t *ev = r->evts;
  while (n < r->evt_cap && r->synth_len > 0) {
    struct synth_event *s = &r->synth[r->synth_head++];
    r->synth_len--;
    int32_t *e = ev + (size_t)n++ * RR_EVT_WORDS;
    e[RR_EVT_UD] = s->user_data;
    e[RR_EVT_RES] = s->res;
    e[RR_EVT_FLAGS] = 0;
    e[RR_EVT_BUF_OFF] = 0;
  }
  if (r->synth_len == 0) r->synth_head = 0;

  unsigned head, seen = 0;
  struct io_uring_cqe *cqe;
  io_uring_for_each_cqe(&r->uring, head, cqe) {
    if (n == r->evt_cap) break; /* the rest stay in the CQ for the next step */
    seen++;
    if (cqe->user_data == RR_UD_INTERNAL) continue;
    int32_t *e = ev + (size_t)n++ * RR_EVT_WORDS;
    e[RR_EVT_UD] = (int32_t)(uint32_t)cqe->user_data;
    e[RR_EVT_RES] = cqe->res;
    e[RR_EVT_FLAGS] = (int32_t)cqe->flags;
    e[RR_EVT_BUF_OFF] = (int32_t)bufring_chunk_out(r, cqe->res, cqe->flags);
  }
  io_uring_cq_advance(&r->uring, seen);
  r->stats[RR_STAT_COMPLETED] += seen;
  return n;
}

/* Whether this step must enter the kernel. A COOP ring with TASKRUN_FLAG
 * tells us in shared memory when it has task work to run (IORING_SQ_TASKRUN)
 * or completions in its overflow list (IORING_SQ_CQ_OVERFLOW); with neither,
 * and nothing to submit, every completion there is already sits in the CQ
 * ring and an enter would only cost a syscall (liburing's own
 * cq_ring_needs_flush test). Work the kernel queues after this read sets
 * TIF_NOTIFY_SIGNAL on this thread, so it runs at our next syscall, and the
 * eventfd (armed before an idle loop's last step) then fires. A DEFER ring,
 * or one without TASKRUN_FLAG, always enters. */
static int needs_enter(struct rr_ring *r) {
  if ((r->feats & (RR_FEAT_TASKRUN_FLAG | RR_FEAT_COOP_TASKRUN)) != (RR_FEAT_TASKRUN_FLAG | RR_FEAT_COOP_TASKRUN)) return 1;
  if (io_uring_sq_ready(&r->uring) > 0) return 1;
  unsigned flags = IO_URING_READ_ONCE(*r->uring.sq.kflags);
  return (flags & (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN)) != 0;
}

int rr_step(int h, int ncmds, int wait_nr) {
  struct rr_ring *r = ring_lookup(h);
  if (!r) return -EBADF;
  /* Same answer the kernel gives a foreign SINGLE_ISSUER submitter; we must
   * check first because the registered ring fd index would name some other
   * ring (or none) in this thread's table. */
  if (!ring_owned_here(r)) return -EEXIST;
  if (ncmds < 0 || (uint32_t)ncmds > r->cmd_cap || wait_nr < 0) return -EINVAL;
  if (reserve_synth(r, (uint32_t)ncmds) < 0) return -ENOMEM;
  r->stats[RR_STAT_STEPS]++;

  for (int i = 0; i < ncmds; i++) {
    const int32_t *c = r->cmds + (size_t)i * RR_CMD_WORDS;
    int res = run_command(r, c);
    if (res < 0) push_synth(r, c[RR_CMD_UD], res);
  }
  bufring_flush(r);

  if (wait_nr == 0 && !needs_enter(r)) return (int)copy_events(r);
  /* Never sleep while the shim itself holds completions JS has not seen. */
  int ret = (wait_nr > 0 && r->synth_len == 0) ? io_uring_submit_and_wait(&r->uring, (unsigned)wait_nr)
                                                : io_uring_submit_and_get_events(&r->uring);
  count_submit(r, ret);
  if (ret < 0 && !transient(ret)) return ret;
  return (int)copy_events(r);
}

int rr_ring_stat(int h, int which) {
  struct rr_ring *r = ring_lookup(h);
  if (!r) return -EBADF;
  if (which < 0 || which >= RR_STAT__COUNT) return -EINVAL;
  uint64_t v = r->stats[which];
  return v > INT32_MAX ? INT32_MAX : (int)v;
}
