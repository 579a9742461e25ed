/**
 * The errors of TLS: TlsError, a handshake or session that failed (what the
 * TLS library said, by its code, and what to do about it, worded for the
 * side that sees it), and TlsConfigError, TLS options that cannot work
 * (caught before any socket opens). The only place that knows the TLS
 * library's error codes; the epoll driver hands it whatever Bun reported.
 */
import { Errno, IoError } from "./errors.ts";

export type TlsSide = "client" | "server";

/** What to do, by the TLS library's code, for the side that sees the failure. */
const hints: Record<TlsSide, Record<string, string>> = {
  client: {
    CERT_HAS_EXPIRED: "the server's certificate has expired: renew it (or check this machine's clock)",
    CERT_NOT_YET_VALID: "the server's certificate is not valid yet: check the clocks of both machines",
    UNTRUSTED: "no CA this client trusts signed the server's certificate: give the client the CA that did (tls.ca), or have the server send its intermediate certificates after its own in tls.cert",
    ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate does not carry the name connected to: connect by a name it carries, or set tls.serverName to one",
    TLSV1_ALERT_CERTIFICATE_REQUIRED: "the server requires a client certificate: give this client tls.cert and tls.key, signed by a CA in the server's tls.ca",
    REFUSED_CERT: "the server refused this client's certificate: it must be signed by a CA in the server's tls.ca and be within its dates",
    ECONNRESET: "the server closed the connection during the handshake: is it serving TLS on this port? (a plain ringrpc server is not; leave tls out for it)",
    NOT_TLS: "the server does not speak TLS on this port: leave tls out, or connect to its TLS port",
  },
  server: {
    PEER_DID_NOT_RETURN_A_CERTIFICATE: "the client sent no certificate and this server requires one (requireClientCert): give the client tls.cert and tls.key signed by a CA in this server's tls.ca",
    CERT_HAS_EXPIRED: "the client's certificate has expired: renew it",
    CERT_NOT_YET_VALID: "the client's certificate is not valid yet: check the clocks of both machines",
    UNTRUSTED: "no CA in this server's tls.ca signed the client's certificate: sign it with one of them, or add its CA to tls.ca",
    ECONNRESET: "the client closed the connection during the handshake: often it does not trust this server's certificate (its tls.ca, the certificate's names or dates)",
    NOT_TLS: "the client does not speak TLS (a plain ringrpc client?): give it tls options, or send it to a plain port",
    HANDSHAKE_TIMEOUT: "the client did not finish the TLS handshake in time (a stalled or non-TLS client)",
  },
};

/** Codes that all mean "signed by nobody I trust". */
const untrusted = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT", "CERT_SIGNATURE_FAILURE", "CERT_UNTRUSTED",
]);
/** Alerts a server sends when it refuses the client's certificate. */
const refusedAlerts = new Set([
  "TLSV1_ALERT_UNKNOWN_CA", "SSLV3_ALERT_BAD_CERTIFICATE", "SSLV3_ALERT_CERTIFICATE_EXPIRED",
  "SSLV3_ALERT_CERTIFICATE_UNKNOWN", "TLSV1_ALERT_ACCESS_DENIED", "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
]);
const notTls = new Set(["WRONG_VERSION_NUMBER", "HTTP_REQUEST", "HTTPS_PROXY_REQUEST", "PACKET_LENGTH_TOO_LONG", "RECORD_TOO_LARGE"]);

function hintKey(code: string): string {
  if (untrusted.has(code)) return "UNTRUSTED";
  if (refusedAlerts.has(code)) return "REFUSED_CERT";
  if (notTls.has(code)) return "NOT_TLS";
  return code;
}

/**
 * The TLS library's code and words for an error Bun reported: a verify
 * error has its own code ("CERT_HAS_EXPIRED", "certificate has expired"); a
 * library error says "error:...:OPENSSL_internal:PEER_DID_NOT_RETURN_A_CERTIFICATE".
 */
export function tlsReason(e: unknown): { code: string; text: string } {
  const err = (typeof e === "object" && e !== null ? e : {}) as { code?: unknown; message?: unknown };
  const message = typeof err.message === "string" ? err.message : String(e);
  const lib = /^error:[0-9a-f]+:[^:]*:[^:]*:([A-Z0-9_]+)$/.exec(message);
  if (lib) return { code: lib[1]!, text: lib[1]!.toLowerCase().replaceAll("_", " ") };
  const code = typeof err.code === "string" && err.code !== "" ? err.code : "TLS_ERROR";
  if (code === "ECONNRESET") return { code, text: "the peer closed the connection before the handshake finished" };
  return { code, text: message };
}

/**
 * A TLS handshake or session that failed. An IoError (errno EPROTO, so it
 * travels wherever an I/O error does) named "TlsError"; `reason` is the TLS
 * library's code, `side` who saw it.
 */
export class TlsError extends IoError {
  override readonly name: string = "TlsError";
  readonly reason: string;
  readonly side: TlsSide;
  constructor(side: TlsSide, peer: string, cause: unknown, stage: "handshake" | "session" = "handshake") {
    const { code, text } = tlsReason(cause);
    super(Errno.EPROTO, stage === "handshake" ? "tls handshake" : "tls");
    this.reason = code;
    this.side = side;
    const hint = hints[side][hintKey(code)];
    const what = stage === "handshake" ? `TLS handshake with ${peer} failed` : `TLS session with ${peer} failed`;
    this.message = `${what}: ${text} (${code})${hint ? `: ${hint}` : ""}`;
  }
}

/** TLS options that cannot work: which option, what is wrong, what to pass instead. */
export class TlsConfigError extends Error {
  override readonly name = "TlsConfigError";
  readonly code = "TLS_CONFIG";
  constructor(message: string) {
    super(message);
  }
}
