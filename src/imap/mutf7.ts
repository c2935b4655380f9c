/**
 * Modified UTF-7 for mailbox names (RFC 3501 §5.1.3), as IMAP4rev1 clients send and expect
 * them; IMAP4rev2 and UTF8=ACCEPT clients use UTF-8 (RFC 9051 §5.1, RFC 6855).
 */

/** UTF-8 text → modified UTF-7. */
export function encodeMutf7(name: string): string {
  let out = '';
  let pending = '';
  const flush = () => {
    if (!pending) return;
    const b64 = Buffer.from(pending, 'utf16le').swap16().toString('base64').replace(/=+$/, '').replace(/\//g, ',');
    out += `&${b64}-`;
    pending = '';
  };
  for (const ch of name) {
    const code = ch.codePointAt(0)!;
    if (code >= 0x20 && code <= 0x7e) {
      flush();
      out += ch === '&' ? '&-' : ch;
    } else {
      pending += ch;
    }
  }
  flush();
  return out;
}

/** Modified UTF-7 → UTF-8 text; undefined when the input is not valid modified UTF-7. */
export function decodeMutf7(name: string): string | undefined {
  let out = '';
  for (let i = 0; i < name.length; ) {
    const ch = name[i]!;
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code > 0x7e) return undefined;
    if (ch !== '&') {
      out += ch;
      i++;
      continue;
    }
    const end = name.indexOf('-', i);
    if (end < 0) return undefined;
    const b64 = name.slice(i + 1, end);
    i = end + 1;
    if (b64 === '') {
      out += '&';
      continue;
    }
    if (!/^[A-Za-z0-9+,]+$/.test(b64)) return undefined;
    const bytes = Buffer.from(b64.replace(/,/g, '/'), 'base64');
    if (bytes.length % 2 !== 0) return undefined;
    const text = Buffer.from(bytes).swap16().toString('utf16le');
    // Printable ASCII must not be encoded (RFC 3501 §5.1.3), and surrogates must pair up.
    if ([...text].some((c) => (c >= ' ' && c <= '~') || /[\uD800-\uDFFF]/u.test(c))) return undefined;
    out += text;
  }
  return out;
}
