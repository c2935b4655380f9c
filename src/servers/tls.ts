import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsMaterial {
  readonly key: Buffer;
  readonly cert: Buffer;
  /** Where they came from, for the start-up banner. */
  readonly source: string;
}

/**
 * The configured certificate, or a self-signed one for `hostname` made on first start
 * and kept under `<dataDir>/tls/` (so clients can pin it across restarts).
 */
export async function loadOrCreateTls(dataDir: string, hostname: string, certPath: string, keyPath: string): Promise<TlsMaterial> {
  if (certPath || keyPath) {
    if (!certPath || !keyPath) throw new Error('configuration keys tls.cert and tls.key must be set together');
    return { cert: readFileSync(certPath), key: readFileSync(keyPath), source: certPath };
  }
  const dir = join(dataDir, 'tls');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  if (!existsSync(cert) || !existsSync(key)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pems = await selfSigned(hostname, [hostname, 'localhost'], ['127.0.0.1']);
    writeFileSync(key, pems.private, { mode: 0o600 });
    writeFileSync(cert, pems.cert);
  }
  return { cert: readFileSync(cert), key: readFileSync(key), source: `${cert} (self-signed)` };
}

/** A self-signed server certificate (RSA 2048, 825 days, the longest browsers accept) for `names` and `ips`. */
export async function selfSigned(commonName: string, names: readonly string[], ips: readonly string[] = []): Promise<{ private: string; cert: string }> {
  // selfsigned loads only when a certificate is made (most starts find theirs on disk).
  const { generate } = await import('selfsigned');
  const now = new Date();
  return generate([{ name: 'commonName', value: commonName }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: now,
    notAfterDate: new Date(now.getTime() + 825 * 86400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [...names.map((value) => ({ type: 2 as const, value })), ...ips.map((ip) => ({ type: 7 as const, ip }))] },
    ],
  });
}
