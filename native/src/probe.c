/**
 * rr_probe: what io_uring can do on this machine, found by trying it on a
 * small throw-away ring (setup flags, opcode probe, a real buffer ring
 * registration, real multishot accept and recv over an AF_UNIX pair).
 * Leaves no fd or mapping behind. Never touches the rings of ring.c.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"

#define PROBE_ENTRIES 8
#define PROBE_BUFS 2
#define PROBE_BUF_SIZE 64
#define PROBE_WAIT_NS (200 * 1000 * 1000)

static int try_ring(struct io_uring *ring, unsigned flags) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = flags;
  return io_uring_queue_init_params(PROBE_ENTRIES, ring, &p);
}

#define UD_TARGET 1
#define UD_CANCEL 2

/* Submits what is queued and waits (bounded) for the next CQE; returns its
 * res (and user_data, flags), or -ETIME when none came. */
static int next_cqe(struct io_uring *ring, uint64_t *ud, uint32_t *flags) {
  struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = PROBE_WAIT_NS};
  struct io_uring_cqe *cqe = NULL;
  int ret = io_uring_submit_and_wait_timeout(ring, &cqe, 1, &ts, NULL);
  if (ret < 0 || !cqe) return ret < 0 ? ret : -ETIME;
  int res = cqe->res;
  *ud = cqe->user_data;
  *flags = cqe->flags;
  io_uring_cqe_seen(ring, cqe);
  return res;
}

/* Arms one request (already prepared in sqe) and reports its first CQE. */
static int first_cqe(struct io_uring *ring, struct io_uring_sqe *sqe, uint32_t *flags) {
  io_uring_sqe_set_data64(sqe, UD_TARGET);
  uint64_t ud = 0;
  int res = next_cqe(ring, &ud, flags);
  return res != -ETIME && ud != UD_TARGET ? -EIO : res;
}

/* Ends the multishot request we armed, and waits until both its last CQE
 * and the cancel's own CQE are reaped, so the ring closes empty. */
static void cancel_target(struct io_uring *ring) {
  struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
  io_uring_prep_cancel64(sqe, UD_TARGET, 0);
  io_uring_sqe_set_data64(sqe, UD_CANCEL);
  int target_done = 0, cancel_done = 0;
  while (!target_done || !cancel_done) {
    uint64_t ud = 0;
    uint32_t flags = 0;
    if (next_cqe(ring, &ud, &flags) == -ETIME) return;
    if (ud == UD_CANCEL) cancel_done = 1;
    if (ud == UD_TARGET && !(flags & IORING_CQE_F_MORE)) target_done = 1;
  }
}

/* A listening AF_UNIX socket with an autobound abstract name, and a client
 * connected to it: multishot accept is tested without any network. */
static int unix_listener(int *lfd, int *cfd) {
  struct sockaddr_un a;
  socklen_t alen = sizeof(sa_family_t);
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  *lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  *cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (*lfd < 0 || *cfd < 0) return -1;
  if (bind(*lfd, (struct sockaddr *)&a, alen) < 0 || listen(*lfd, 4) < 0) return -1;
  alen = sizeof a;
  if (getsockname(*lfd, (struct sockaddr *)&a, &alen) < 0) return -1;
  return connect(*cfd, (struct sockaddr *)&a, alen);
}

static int probe_accept_multi(struct io_uring *ring) {
  int lfd = -1, cfd = -1, ok = 0;
  if (unix_listener(&lfd, &cfd) == 0) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, SOCK_CLOEXEC);
    uint32_t flags = 0;
    int res = first_cqe(ring, sqe, &flags);
    if (res >= 0) close(res);
    ok = res >= 0 && (flags & IORING_CQE_F_MORE);
    if (ok) cancel_target(ring);
  }
  if (lfd >= 0) close(lfd);
  if (cfd >= 0) close(cfd);
  return ok;
}

/* Registers a two-buffer ring (group 0), incremental where the kernel has
 * that, and, if that works, tries one multishot recv from it. Returns
 * RR_PROBE_* bits. */
static int probe_buf_ring(struct rr_ring *pr) {
  struct io_uring *ring = &pr->uring;
  int bits = 0;
  if (bufring_setup(pr, PROBE_BUFS, PROBE_BUF_SIZE, PROBE_BUFS, 1) == 0) {
    bits |= RR_PROBE_BUF_RING;
    if (pr->feats & RR_FEAT_BUF_INC) bits |= RR_PROBE_BUF_INC;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
      if (write(sv[1], "p", 1) == 1) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
        io_uring_prep_recv_multishot(sqe, sv[0], NULL, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = 0;
        uint32_t flags = 0;
        int res = first_cqe(ring, sqe, &flags);
        if (res == 1 && (flags & IORING_CQE_F_MORE)) {
          bits |= RR_PROBE_MULTISHOT_RECV;
          cancel_target(ring);
        }
      }
      close(sv[0]);
      close(sv[1]);
    }
  }
  bufring_teardown(pr);
  return bits;
}

static int probe_opcodes(struct io_uring *ring) {
  struct io_uring_probe *p = io_uring_get_probe_ring(ring);
  if (!p) return 0;
  int bits = 0;
  if (io_uring_opcode_supported(p, IORING_OP_SEND_ZC)) bits |= RR_PROBE_SEND_ZC;
  if (io_uring_opcode_supported(p, IORING_OP_ASYNC_CANCEL)) bits |= RR_PROBE_ASYNC_CANCEL;
  io_uring_free_probe(p);
  return bits;
}

int rr_probe(void) {
  /* A bare rr_ring only so bufring.c's helpers can be reused; nothing
   * else of it is set up. */
  struct rr_ring pr;
  memset(&pr, 0, sizeof pr);
  struct io_uring *ring = &pr.uring;
  int bits = RR_PROBE_RING;
  int ret = try_ring(ring, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
  if (ret == 0) {
    bits |= RR_PROBE_SINGLE_ISSUER | RR_PROBE_DEFER_TASKRUN;
  } else {
    ret = try_ring(ring, IORING_SETUP_SINGLE_ISSUER);
    if (ret == 0) bits |= RR_PROBE_SINGLE_ISSUER;
    else ret = try_ring(ring, 0);
  }
  if (ret < 0) return ret;

  bits |= probe_opcodes(ring);
  if (bits & RR_PROBE_ASYNC_CANCEL) {
    /* The multishot checks end their requests with an async cancel. */
    if (probe_accept_multi(ring)) bits |= RR_PROBE_MULTISHOT_ACCEPT;
    bits |= probe_buf_ring(&pr);
  }
  io_uring_queue_exit(ring);
  return bits;
}
