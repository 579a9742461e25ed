/**
 * Test certificates, made fresh by `openssl` into a temp dir for each test
 * file (nothing is checked in, nothing expires in the repository): a CA,
 * another CA nobody trusts, a server certificate for localhost and
 * 127.0.0.1 signed by the CA, one already expired, a client certificate
 * signed by the CA and one signed by the other CA. `tlsSkipReason()` says
 * why TLS tests cannot run (no openssl).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCerts {
  dir: string;
  /** Path of a file in dir (to hand to a server process). */
  path(name: string): string;
  ca: string;
  otherCa: string;
  serverCert: string;
  serverKey: string;
  expiredCert: string;
  expiredKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate signed by otherCa, which the server does not trust. */
  strangerCert: string;
  strangerKey: string;
  remove(): void;
}

export function tlsSkipReason(): string | null {
  return Bun.which("openssl") === null ? "openssl is not installed (apt-get install openssl)" : null;
}

function openssl(dir: string, args: string[]): void {
  const r = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${r.stderr.toString()}`);
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** A key and a certificate for `cn` signed by `ca`, valid for `days` (negative: already expired). */
function issue(dir: string, name: string, cn: string, ca: string, days: number, ext: string | null): void {
  openssl(dir, ["req", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`]);
  const extArgs = ext === null ? [] : ["-extfile", ext];
  openssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${name}.crt`, "-days", String(days), ...extArgs]);
}

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), "ringrpc-certs-"));
  for (const ca of ["ca", "other-ca"]) openssl(dir, ["req", "-x509", ...EC, "-keyout", `${ca}.key`, "-out", `${ca}.crt`, "-days", "30", "-subj", `/CN=ringrpc test ${ca}`]);
  writeFileSync(join(dir, "server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  issue(dir, "server", "localhost", "ca", 30, "server.ext");
  // -days -1: notAfter a day before notBefore, so it is expired from the start.
  issue(dir, "expired", "localhost", "ca", -1, "server.ext");
  issue(dir, "client", "ringrpc test client", "ca", 30, null);
  issue(dir, "stranger", "ringrpc test stranger", "other-ca", 30, null);
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  return {
    dir,
    path: (name) => join(dir, name),
    ca: read("ca.crt"),
    otherCa: read("other-ca.crt"),
    serverCert: read("server.crt"),
    serverKey: read("server.key"),
    expiredCert: read("expired.crt"),
    expiredKey: read("expired.key"),
    clientCert: read("client.crt"),
    clientKey: read("client.key"),
    strangerCert: read("stranger.crt"),
    strangerKey: read("stranger.key"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
