/**
 * probeKtls(): can this kernel encrypt TLS records itself (kTLS)? Asks the
 * shim (rr_ktls_probe: TCP_ULP "tls" plus a TLS 1.2 transmit key on a
 * throw-away loopback connection) once per thread and words the answer
 * for `ringrpc doctor` and the startup line of a TLS server. ringrpc does
 * not use kTLS: a kernel that has it still needs the handshake done in
 * user space and its keys installed, and Bun runs its TLS only on its own
 * sockets (docs/DEPLOY.md, "TLS"). Never throws.
 */
import { DriverUnavailable, errnoName } from "../errors.ts";
import { loadNative } from "../native.ts";

export interface KtlsProbe {
  /** True when the "tls" ULP attached and took a key; null when the probe could not run. */
  available: boolean | null;
  /** errno of the step that failed, else 0. */
  errno: number;
  /** One line: the answer and, when missing, why. */
  text: string;
}

const hints: Record<string, string> = {
  ENOENT: "no \"tls\" ULP: a kernel without CONFIG_TLS, or the tls module not loaded (modprobe tls)",
  ENOPROTOOPT: "the kernel has no TCP_ULP (older than 4.13)",
  EOPNOTSUPP: "the tls module refuses the key (a kernel without AES-GCM for kTLS)",
};

let cached: KtlsProbe | null = null;

export function probeKtls(): KtlsProbe {
  cached ??= runProbe();
  return { ...cached };
}

function runProbe(): KtlsProbe {
  let res: number;
  try {
    res = loadNative().rr_ktls_probe();
  } catch (e) {
    const reason = e instanceof DriverUnavailable ? e.reason : e instanceof Error ? e.message : String(e);
    return { available: null, errno: 0, text: `unknown (the native shim did not load: ${reason})` };
  }
  if (res === 0) return { available: true, errno: 0, text: "available (TCP_ULP \"tls\" attaches and takes a TLS 1.2 key)" };
  const code = errnoName(res);
  const hint = hints[code];
  return { available: false, errno: -res, text: `unavailable (TCP_ULP "tls": ${code}${hint ? `: ${hint}` : ""})` };
}

/** Why the io_uring driver carries no TLS here, in one clause for a startup line or an error. */
export function uringTlsReason(): string {
  return `io_uring carries no TLS here: kTLS is ${probeKtls().text}, and even with kTLS the handshake runs in user space, where Bun does TLS only on its own sockets`;
}
