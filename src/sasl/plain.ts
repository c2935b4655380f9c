/** The three fields of a SASL PLAIN message (RFC 4616 §2). */
export interface PlainCredentials {
  readonly authzid: string;
  readonly authcid: string;
  readonly password: string;
}

/**
 * Decodes a base64 SASL PLAIN response: [authzid] NUL authcid NUL passwd, UTF-8.
 * Returns a sentence describing the problem for broken input.
 */
export function decodePlain(base64: string): PlainCredentials | { error: string } {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0 || base64.length === 0) {
    return { error: 'Invalid base64 in SASL response' };
  }
  const raw = Buffer.from(base64, 'base64');
  const text = raw.toString('utf8');
  if (text.includes('\uFFFD')) return { error: 'SASL response is not valid UTF-8' };
  const fields = text.split('\0');
  if (fields.length !== 3) return { error: 'SASL PLAIN needs authzid NUL authcid NUL password' };
  const [authzid, authcid, password] = fields as [string, string, string];
  if (!authcid || !password) return { error: 'SASL PLAIN needs a user name and a password' };
  return { authzid, authcid, password };
}
