/**
 * ringrpc native shim: the one public header.
 *
 * Owns the ABI between the C shim over liburing and the TypeScript runtime
 * (src/runtime/uring/). Everything TypeScript calls is declared here, carries
 * the rr_ prefix and returns a count or 0 on success, -errno on failure
 * (pointer getters return NULL on failure). Nothing here is static inline:
 * bun:ffi can only call real symbols.
 *
 * Memory the kernel touches (commands, events, the buffer arena, the provided
 * buffer ring) is allocated here, once per ring, and TypeScript wraps it once
 * with toArrayBuffer(rr_ring_mem(...)). JS never hands the kernel a pointer
 * into a JS-owned TypedArray; buffers are named by their byte offset in the
 * ring's arena.
 *
 * A ring belongs to the thread that created it (SINGLE_ISSUER): every
 * rr_ring_* / rr_step call for handle h must come from that thread.
 */
#ifndef RINGRPC_H
#define RINGRPC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every number of the ABI is defined here and nowhere else on the C side;
 * src/runtime/uring/abi.ts mirrors them by name (RR_X <-> X, RR_OP_X <->
 * Op.X, ...) and test/runtime/abi.test.ts fails when the two drift apart. */

/* ---- command records: JS writes, rr_step reads -------------------------
 * A command is RR_CMD_WORDS int32 words, at these indices: */
#define RR_CMD_WORDS 8
#define RR_CMD_OP 0    /* one of enum rr_op */
#define RR_CMD_FD 1    /* target socket (or -1) */
#define RR_CMD_UD 2    /* op slot index; comes back as the CQE's user_data */
#define RR_CMD_OFF 3   /* byte offset into the arena (RECV/SEND/CONNECT) */
#define RR_CMD_LEN 4   /* byte length (RECV/SEND/CONNECT: sockaddr length) */
#define RR_CMD_ARG 5   /* TIMEOUT: milliseconds; CANCEL: target user_data; BUF_RETURN:
                        * buffer id; SEND/RECV: msg flags (MSG_*); SHUTDOWN: how */
#define RR_CMD_FLAGS 6 /* RR_CMDF_* bits; word 7 is reserved (0) */

enum rr_op {
  RR_OP_NOP = 0,
  RR_OP_ACCEPT_MULTI = 1, /* multishot accept on a listening fd; res = new fd */
  RR_OP_RECV = 2,         /* single recv into arena[off, off+len) */
  RR_OP_RECV_MULTI = 3,   /* multishot recv from the provided buffer ring */
  RR_OP_SEND = 4,         /* single send of arena[off, off+len); MSG_NOSIGNAL added */
  RR_OP_CLOSE = 5,        /* close(fd) */
  RR_OP_TIMEOUT = 6,      /* relative timeout of arg ms; res = -ETIME when it fires */
  RR_OP_CANCEL = 7,       /* async cancel of the op whose user_data == arg; no CQE to JS */
  RR_OP_CONNECT = 8,      /* connect(fd, arena+off, len) */
  RR_OP_BUF_RETURN = 9,   /* JS is done with one chunk of provided buffer `arg` (one per CQE that
                           * carried it); the buffer goes back to the kernel once the kernel has
                           * moved past it and every chunk is returned; no SQE, no CQE */
  RR_OP_SHUTDOWN = 10,    /* shutdown(fd, arg) */
  RR_OP__COUNT = 11
};

#define RR_CMDF_LINK_TIMEOUT 1 /* reserved for later: link the next TIMEOUT command to this op */

/* ---- event records: rr_step writes, JS reads ---------------------------
 * An event is RR_EVT_WORDS int32 words, at these indices. CQEs whose
 * user_data is RR_UD_INTERNAL (cancels and other shim-internal SQEs) are
 * consumed by the shim and never copied out. */
#define RR_EVT_WORDS 4
#define RR_EVT_UD 0    /* user_data (low 32 bits of the CQE's) */
#define RR_EVT_RES 1   /* CQE res (>= 0 count/fd, or -errno) */
#define RR_EVT_FLAGS 2 /* CQE flags, as the kernel's: */
#define RR_CQE_F_BUFFER 1     /* IORING_CQE_F_BUFFER: a provided buffer was used, */
#define RR_CQE_BUFFER_SHIFT 16 /* its id in the high 16 bits */
#define RR_CQE_F_MORE 2       /* IORING_CQE_F_MORE: the multishot op stays armed */
#define RR_EVT_BUF_OFF 3 /* with RR_CQE_F_BUFFER: where in that buffer the data starts
                          * (not 0 only on an incremental buffer ring); else 0 */
#define RR_UD_INTERNAL 0xFFFFFFFFu

/* ---- memory regions of a ring, for rr_ring_mem ------------------------ */
enum rr_mem {
  RR_MEM_CMDS = 0,   /* cmd_cap * RR_CMD_WORDS int32 */
  RR_MEM_EVTS = 1,   /* evt_cap * RR_EVT_WORDS int32 */
  RR_MEM_ARENA = 2,  /* arena_bytes, page aligned, for owned buffers */
  RR_MEM_BUFS = 3    /* buf_count * buf_size, the provided buffers (group 0) */
};

/* ---- setup flags actually in use, bits returned by rr_ring_setup_flags -- */
#define RR_FEAT_SINGLE_ISSUER 1
#define RR_FEAT_DEFER_TASKRUN 2
#define RR_FEAT_COOP_TASKRUN 4
#define RR_FEAT_BUF_RING 8
#define RR_FEAT_EVENTFD 16
#define RR_FEAT_TASKRUN_FLAG 32
#define RR_FEAT_BUF_INC 64 /* the buffer ring is consumed incrementally (IOU_PBUF_RING_INC, 6.12+) */

/* ---- ring modes, the last argument of rr_ring_create ------------------ */
#define RR_RING_COOP 0  /* SINGLE_ISSUER|COOP_TASKRUN|TASKRUN_FLAG: wake-ups cannot be lost */
#define RR_RING_DEFER 1 /* SINGLE_ISSUER|DEFER_TASKRUN: eventfd may be late; opt-in */
/* OR'd into either mode: never ask for incremental buffer consumption (every
 * recv then takes a whole buffer, as on kernels before 6.12). */
#define RR_WHOLE_BUFS 2

/* ---- probe bits returned by rr_probe (>= 0), or -errno ---------------- */
#define RR_PROBE_RING 1           /* io_uring_setup works at all */
#define RR_PROBE_SINGLE_ISSUER 2
#define RR_PROBE_DEFER_TASKRUN 4
#define RR_PROBE_MULTISHOT_ACCEPT 8
#define RR_PROBE_MULTISHOT_RECV 16
#define RR_PROBE_BUF_RING 32
#define RR_PROBE_SEND_ZC 64
#define RR_PROBE_ASYNC_CANCEL 128
#define RR_PROBE_BUF_INC 256      /* incremental buffer rings (IOU_PBUF_RING_INC, 6.12+) */

/* Creates a ring with its command/event arrays, arena and provided buffer
 * ring (buf_count must be a power of two, buf_size a multiple of 64; the
 * first buf_initial of them, 1..buf_count, are handed to the kernel now and
 * rr_bufring_grow hands over more; with buf_count 0, buf_initial is 0).
 * mode RR_RING_COOP tries SINGLE_ISSUER|COOP_TASKRUN|TASKRUN_FLAG, then
 * without TASKRUN_FLAG, then no flags; RR_RING_DEFER tries
 * SINGLE_ISSUER|DEFER_TASKRUN first, then the same list. The buffer ring
 * is registered for incremental consumption (many recvs share a buffer,
 * each at its RR_EVT_BUF_OFF) where the kernel has it, unless mode has
 * RR_WHOLE_BUFS. rr_ring_setup_flags says what was taken. Returns a
 * handle >= 0 or -errno. */
int rr_ring_create(uint32_t entries, uint32_t cmd_cap, uint32_t evt_cap,
                   uint32_t arena_bytes, uint32_t buf_count, uint32_t buf_size,
                   uint32_t buf_initial, int mode);
/* Base address of a memory region of ring h (enum rr_mem), NULL if bad. */
void *rr_ring_mem(int h, int which);
/* Hands provided buffers [current, active) of ring h to the kernel (active
 * is capped at buf_count); call between steps, from the ring's thread.
 * Returns how many buffers the kernel now has, or -errno (-EINVAL: the ring
 * has no buffer ring). */
int rr_bufring_grow(int h, uint32_t active);
/* RR_FEAT_* bits of ring h, or -errno. */
int rr_ring_setup_flags(int h);
/* The eventfd registered with ring h (signalled when a CQE is posted), or -errno. */
int rr_ring_eventfd(int h);
/* Turns eventfd notification of ring h on (1) or off (0). 0 or -errno. */
int rr_ring_eventfd_enable(int h, int on);
/* Stops all I/O of ring h, closes its eventfd, frees its memory. 0 or -errno.
 * After this, views made of its memory must not be touched. */
int rr_ring_destroy(int h);

/* One loop step: preps the first ncmds commands, submits them with one
 * io_uring_submit_and_get_events (waiting for at least wait_nr completions),
 * copies up to evt_cap completions into the event array and advances the CQ.
 * Returns the number of events copied, or -errno. A command that cannot be
 * prepared yields an event with res = -EINVAL (bad op) instead of failing
 * the batch. If the SQ fills mid-batch the shim submits and continues. */
int rr_step(int h, int ncmds, int wait_nr);
/* Counters of ring h since creation (which = RR_STAT_*). Returns the
 * counter (saturating at INT32_MAX) or -errno. */
#define RR_STAT_ENTERS 0    /* io_uring_enter calls */
#define RR_STAT_SUBMITTED 1 /* SQEs submitted */
#define RR_STAT_COMPLETED 2 /* CQEs reaped (internal ones included) */
#define RR_STAT_STEPS 3     /* rr_step calls */
#define RR_STAT__COUNT 4
int rr_ring_stat(int h, int which);

/* io_uring availability here: RR_PROBE_* bits, or -errno from io_uring_setup
 * (EPERM: seccomp or kernel.io_uring_disabled; ENOSYS: no kernel support). */
int rr_probe(void);

/* Kernel TLS here: 0 when the "tls" ULP attaches to a loopback TCP socket
 * and takes a TLS 1.2 AES-GCM-128 transmit key, else -errno of the step
 * that failed (ENOENT: no "tls" ULP, i.e. CONFIG_TLS off or the module
 * missing). Opens and closes a throw-away 127.0.0.1 connection. */
int rr_ktls_probe(void);

/* ---- sockets ---------------------------------------------------------- */
/* A TCP socket (family 4 or 6), SOCK_CLOEXEC. Returns fd or -errno. */
int rr_socket_tcp(int family);
/* Binds fd to host (NUL-terminated numeric IPv4/IPv6) and port without
 * listening: a port reservation that takes no connections (the process
 * supervisor holds one so every child joins the same port). reuse_port sets
 * SO_REUSEPORT; SO_REUSEADDR is never set, so only SO_REUSEPORT listeners of
 * the same user can join the port. 0 or -errno. */
int rr_socket_bind(int fd, const char *host, int port, int reuse_port);
/* Binds fd like rr_socket_bind but with SO_REUSEADDR always, then listens.
 * 0 or -errno. */
int rr_socket_listen(int fd, const char *host, int port, int backlog, int reuse_port);
/* The locally bound port of fd, or -errno. */
int rr_socket_local_port(int fd);
/* Writes the sockaddr for host:port into out (at most cap bytes) and
 * returns its length, or -errno (-EINVAL for a host that is not numeric). */
int rr_sockaddr(const char *host, int port, uint8_t *out, int cap);
/* Peer address of fd as text into out (NUL-terminated); returns the port,
 * or -errno. */
int rr_socket_peer(int fd, char *out, int cap);
/* TCP_NODELAY on (1) or off (0). 0 or -errno. */
int rr_socket_nodelay(int fd, int on);
/* A connected AF_UNIX stream pair (SOCK_CLOEXEC) into out[0], out[1]: no
 * port, no TIME_WAIT (the wake-up self-test uses it). 0 or -errno. */
int rr_socketpair(int32_t *out);
/* Synchronous close for teardown paths. 0 or -errno. */
int rr_close(int fd);

/* ---- threads ---------------------------------------------------------- */
/* Pins the calling thread to cpu. 0 or -errno. */
int rr_pin_cpu(int cpu);
/* The calling thread's kernel thread id. */
int rr_gettid(void);

/* ---- wake-up probes ---------------------------------------------------- */
/* CLOCK_MONOTONIC in milliseconds (a double: no BigInt in JS). */
double rr_clock_ms(void);
/* Starts a detached thread that sleeps delay_us, then sends the 8 bytes of
 * its rr_clock_ms() (a native-endian double) on socket fd: a completion that
 * arrives from another thread while the ring's owner sleeps. The caller keeps
 * fd open until the bytes are read. 0 or -errno. */
int rr_send_clock_after(int fd, int delay_us);

#ifdef __cplusplus
}
#endif
#endif
