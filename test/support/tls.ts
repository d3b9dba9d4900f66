import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export interface TestPki {
  /** PEM file of the test CA (what WEBHOOK_CA_FILE points at). */
  caFile: string;
  /** A server certificate for 127.0.0.1 and localhost, signed by the CA. */
  server: { key: string; cert: string };
  /** A self-signed certificate for the same names, which nothing trusts. */
  untrusted: { key: string; cert: string };
  dispose(): void;
}

/**
 * Generates a throw-away CA and certificates with the openssl command line (Debian package `openssl`,
 * which .ci/run installs when missing). Fails loudly if openssl is absent.
 */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'webhook-pki-'));
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n');
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=model-registry test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
  openssl('req', '-x509', ...ec, '-keyout', 'untrusted.key', '-out', 'untrusted.pem', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost');
  const read = (name: string) => readFileSync(file(name), 'utf8');
  return {
    caFile: file('ca.pem'),
    server: { key: read('server.key'), cert: read('server.pem') },
    untrusted: { key: read('untrusted.key'), cert: read('untrusted.pem') },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
