/**
 * ringrpc's TLS options (../types.ts, checked by ../tls-config.ts) as Bun's
 * TLSOptions for Bun.listen and Bun.connect. Verification is always asked
 * for explicitly (rejectUnauthorized: true), so NODE_TLS_REJECT_UNAUTHORIZED
 * cannot switch it off; a server gets `ca` and `requestCert` only with
 * requireClientCert (Bun requests a client certificate whenever `ca` is set).
 */
import type { TLSOptions } from "bun";
import { isIP } from "node:net";
import type { TlsClientOptions, TlsServerOptions } from "../types.ts";

export function bunServerTls(tls: TlsServerOptions): TLSOptions {
  const o: TLSOptions = { cert: tls.cert, key: tls.key };
  if (tls.requireClientCert === true) {
    o.ca = tls.ca;
    o.requestCert = true;
    o.rejectUnauthorized = true;
  }
  return o;
}

/** The name checked against the server's certificate: serverName, else a host that is a name (an IP is checked as an IP). */
export function bunClientTls(tls: TlsClientOptions, host: string): TLSOptions {
  const o: TLSOptions = { rejectUnauthorized: true };
  if (tls.ca !== undefined) o.ca = tls.ca;
  if (tls.cert !== undefined) {
    o.cert = tls.cert;
    o.key = tls.key;
  }
  const name = tls.serverName ?? (isIP(host) === 0 ? host : undefined);
  if (name !== undefined) o.serverName = name;
  return o;
}
