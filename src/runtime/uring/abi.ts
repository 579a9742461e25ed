/**
 * Numbers of the native ABI (native/include/ringrpc.h, their one source) as
 * TypeScript constants: command and event layouts, op codes, memory regions,
 * feature and probe bits, CQE flags, counters, ring modes. Each name mirrors
 * the header's (X <-> RR_X, Op.X <-> RR_OP_X, Mem <-> RR_MEM, Feature <->
 * RR_FEAT, ProbeBit <-> RR_PROBE, Stat <-> RR_STAT, RingModeCode <-> RR_RING);
 * test/runtime/abi.test.ts fails on any drift. Holds no behaviour.
 */

export const CMD_WORDS = 8;
export const CMD_OP = 0;
export const CMD_FD = 1;
export const CMD_UD = 2;
export const CMD_OFF = 3;
export const CMD_LEN = 4;
export const CMD_ARG = 5;
export const CMD_FLAGS = 6;

export const EVT_WORDS = 4;
export const EVT_UD = 0;
export const EVT_RES = 1;
export const EVT_FLAGS = 2;
/** With CQE_F_BUFFER: where in that buffer the chunk starts (not 0 only on an incremental buffer ring). */
export const EVT_BUF_OFF = 3;

/** RR_UD_INTERNAL (0xFFFFFFFF) as it reads in an Int32Array. */
export const UD_INTERNAL = -1;
/**
 * user_data for commands that complete no slot (CANCEL, BUF_RETURN). The
 * shim rejects RR_UD_INTERNAL in a command; this value is above any slot
 * index, so a synthetic error event carrying it is counted as stray.
 */
export const UD_NONE = 0x7fffffff;

export const Op = {
  NOP: 0,
  ACCEPT_MULTI: 1,
  RECV: 2,
  RECV_MULTI: 3,
  SEND: 4,
  CLOSE: 5,
  TIMEOUT: 6,
  CANCEL: 7,
  CONNECT: 8,
  BUF_RETURN: 9,
  SHUTDOWN: 10,
} as const;

export const Mem = { CMDS: 0, EVTS: 1, ARENA: 2, BUFS: 3 } as const;

export const CQE_F_BUFFER = 1;
export const CQE_F_MORE = 2;
export const CQE_BUFFER_SHIFT = 16;

/** Reserved for a later linked timeout; the shim rejects any non-zero flags today. */
export const CMDF_LINK_TIMEOUT = 1;

export const Feature = {
  SINGLE_ISSUER: 1,
  DEFER_TASKRUN: 2,
  COOP_TASKRUN: 4,
  BUF_RING: 8,
  EVENTFD: 16,
  TASKRUN_FLAG: 32,
  BUF_INC: 64,
} as const;

/** The last argument of rr_ring_create (RR_RING_*). */
export const RingModeCode = { coop: 0, defer: 1 } as const;
/** OR'd into a RingModeCode: every recv takes a whole provided buffer, as on kernels before 6.12. */
export const WHOLE_BUFS = 2;

export const ProbeBit = {
  RING: 1,
  SINGLE_ISSUER: 2,
  DEFER_TASKRUN: 4,
  MULTISHOT_ACCEPT: 8,
  MULTISHOT_RECV: 16,
  BUF_RING: 32,
  SEND_ZC: 64,
  ASYNC_CANCEL: 128,
  BUF_INC: 256,
} as const;

export const Stat = { ENTERS: 0, SUBMITTED: 1, COMPLETED: 2, STEPS: 3 } as const;
