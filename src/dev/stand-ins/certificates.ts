/**
 * A certificate authority and one certificate it issued, made by Debian's openssl for the local
 * HTTPS servers of the tests. Clients trust `caFile` (NODE_EXTRA_CA_CERTS for the daemon) or `ca`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Certificates {
  ca: string;
  caFile: string;
  key: string;
  cert: string;
  remove(): void;
}

/** `names`: DNS names (wildcards allowed) and IP addresses the certificate covers. */
export function makeCertificates(names: string[]): Certificates {
  const dir = mkdtempSync(join(tmpdir(), 'registrar-certs-'));
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=Registrar Test CA',
  ]);
  const san = names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=${san}\n`);
  run(['req', ...ec, '-keyout', 'site.key', '-out', 'site.csr', '-subj', `/CN=${names[0]}`]);
  run([
    'x509',
    '-req',
    '-in',
    'site.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'site.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  ]);
  return {
    ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    caFile: join(dir, 'ca.pem'),
    key: readFileSync(join(dir, 'site.key'), 'utf8'),
    cert: readFileSync(join(dir, 'site.pem'), 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
