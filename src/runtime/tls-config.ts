/**
 * Checks TLS options before any socket opens, so a mistake is one line
 * naming the option (`tls.key: the private key does not belong to
 * tls.cert`) instead of a TLS library code at the first connection: PEM
 * text rather than a path, certificates and keys that parse, a key that
 * matches its certificate, cert and key together, `ca` only where it is
 * used. Also words the warnings a server should print at start (a
 * certificate out of its dates). Owns no sockets and no Bun types.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { TlsConfigError } from "./tls-errors.ts";
import type { Pem, TlsServerOptions } from "./types.ts";

const decoder = new TextDecoder();

function pemText(value: unknown, name: string): string {
  const text = typeof value === "string" ? value : value instanceof Uint8Array ? decoder.decode(value) : null;
  if (text === null) throw new TlsConfigError(`${name} must be PEM text (a string or its bytes), got ${value === null ? "null" : typeof value}`);
  if (!text.includes("-----BEGIN ")) {
    const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
    throw new TlsConfigError(`${name} is not PEM (no "-----BEGIN" line in ${JSON.stringify(shown)}): pass the file's contents, e.g. readFileSync(path, "utf8"), not its path`);
  }
  return text;
}

function certificate(value: unknown, name: string): X509Certificate {
  const text = pemText(value, name);
  try {
    return new X509Certificate(text);
  } catch (e) {
    throw new TlsConfigError(`${name} is not a PEM certificate (${(e as Error).message}): it must hold "-----BEGIN CERTIFICATE-----" blocks`);
  }
}

function privateKey(value: unknown, name: string): KeyObject {
  const text = pemText(value, name);
  try {
    return createPrivateKey(text);
  } catch (e) {
    throw new TlsConfigError(`${name} is not an unencrypted PEM private key (${(e as Error).message})`);
  }
}

function caList(value: unknown, name: string): Pem[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new TlsConfigError(`${name} is an empty list: give at least one CA certificate, or leave ${name} out`);
  list.forEach((v, i) => certificate(v, list.length === 1 ? name : `${name}[${i}]`));
  return list as Pem[];
}

/** The certificate and key of one side, checked to belong together. */
function certAndKey(cert: unknown, key: unknown, prefix: string): X509Certificate {
  const c = certificate(cert, `${prefix}.cert`);
  const k = privateKey(key, `${prefix}.key`);
  if (!c.checkPrivateKey(k)) throw new TlsConfigError(`${prefix}.key does not belong to ${prefix}.cert (${c.subject}): pass the key the certificate was issued for`);
  return c;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Throws TlsConfigError unless `tls` is usable TLS for a listener. Returns the server's certificate. */
export function checkServerTls(tls: unknown, prefix = "tls"): X509Certificate {
  if (!isObject(tls)) throw new TlsConfigError(`${prefix} must be an object { cert, key, ca?, requireClientCert? }`);
  if (tls.cert === undefined || tls.key === undefined) throw new TlsConfigError(`${prefix} needs both cert and key (PEM): the server's certificate chain and its private key`);
  const cert = certAndKey(tls.cert, tls.key, prefix);
  const requireClientCert = tls.requireClientCert ?? false;
  if (typeof requireClientCert !== "boolean") throw new TlsConfigError(`${prefix}.requireClientCert must be true or false`);
  if (requireClientCert && tls.ca === undefined) throw new TlsConfigError(`${prefix}.requireClientCert needs ${prefix}.ca: the CA certificates that sign your clients' certificates`);
  if (!requireClientCert && tls.ca !== undefined) throw new TlsConfigError(`${prefix}.ca is used only to check client certificates: set ${prefix}.requireClientCert: true too, or leave ${prefix}.ca out`);
  if (tls.ca !== undefined) caList(tls.ca, `${prefix}.ca`);
  const t = tls.handshakeTimeoutMs;
  if (t !== undefined && (typeof t !== "number" || !Number.isInteger(t) || t < 1 || t > 2 ** 31 - 1)) {
    throw new TlsConfigError(`${prefix}.handshakeTimeoutMs must be an integer number of ms from 1, got ${String(t)}`);
  }
  return cert;
}

/** Throws TlsConfigError unless `tls` is usable TLS for a client. */
export function checkClientTls(tls: unknown, prefix = "tls"): void {
  if (!isObject(tls)) throw new TlsConfigError(`${prefix} must be an object { ca?, cert?, key?, serverName? } ({} for TLS with the default trust store)`);
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new TlsConfigError(`${prefix} needs cert and key together (a client certificate and its private key), or neither`);
  }
  if (tls.cert !== undefined) certAndKey(tls.cert, tls.key, prefix);
  if (tls.ca !== undefined) caList(tls.ca, `${prefix}.ca`);
  if (tls.serverName !== undefined && (typeof tls.serverName !== "string" || tls.serverName === "")) {
    throw new TlsConfigError(`${prefix}.serverName must be a non-empty host name`);
  }
}

/** Lines a server prints at start about its certificate: out of its dates, or close to the end. */
export function certificateWarnings(tls: TlsServerOptions, now = Date.now()): string[] {
  const cert = checkServerTls(tls);
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  const name = `tls.cert (${cert.subject.replaceAll("\n", ", ")})`;
  if (to < now) return [`${name} expired on ${new Date(to).toISOString()}: every client will refuse it (CERT_HAS_EXPIRED); renew it`];
  if (from > now) return [`${name} is valid only from ${new Date(from).toISOString()}: clients will refuse it until then (CERT_NOT_YET_VALID); check the clock`];
  const days = (to - now) / 86_400_000;
  if (days < 7) return [`${name} expires in ${days.toFixed(1)} days (${new Date(to).toISOString()}): renew it`];
  return [];
}

