/**
 * What FETCH shows of a message (RFC 9051 §7.5.2): body sections by part number, ENVELOPE,
 * BODY/BODYSTRUCTURE and BINARY (RFC 3516), all read from the message's MIME tree.
 */
import addressparser from 'nodemailer/lib/addressparser';
import libqp from 'libqp';
import { headerValue, type MimePart } from '../../message/index.js';
import { nstr, str, type Chunk, type Section } from '../../imap/index.js';

/** The part a part number names (RFC 9051 §6.4.5), or undefined. */
export function resolvePart(root: MimePart, numbers: readonly number[]): MimePart | undefined {
  let node = root;
  let isMessage = true;
  for (const n of numbers) {
    const container = isMessage ? node : node.message;
    if (container) {
      // Inside a message: its multipart body's parts, or for a single-part message, part 1 is the body.
      if (container.parts.length) node = container.parts[n - 1]!;
      else if (n === 1) node = container;
      else return undefined;
    } else if (node.parts.length) node = node.parts[n - 1]!;
    else return undefined;
    if (!node) return undefined;
    isMessage = false;
  }
  return node;
}

/** The bytes of a section, or undefined when the section does not exist in this message. */
export function sectionBytes(data: Buffer, root: MimePart, section: Section): Buffer | undefined {
  const node = resolvePart(root, section.part);
  if (!node) return undefined;
  if (!section.text) return section.part.length === 0 ? data : data.subarray(node.bodyStart, node.end);
  if (section.text === 'MIME') return data.subarray(node.headerStart, node.bodyStart);
  // HEADER and TEXT of a part number refer to the message inside a message/rfc822 part.
  const msg = section.part.length === 0 ? root : node.message;
  if (!msg) return undefined;
  if (section.text === 'TEXT') return data.subarray(msg.bodyStart, msg.end);
  const header = data.subarray(msg.headerStart, msg.bodyStart);
  if (section.text === 'HEADER') return header;
  return filterHeader(header, section.fields ?? [], section.text === 'HEADER.FIELDS.NOT');
}

/** The header lines (folded lines kept whole) whose names are (or, `not`, are not) in `fields`, then the blank line. */
function filterHeader(header: Buffer, fields: readonly string[], not: boolean): Buffer {
  const want = new Set(fields);
  const text = header.toString('latin1');
  const out: string[] = [];
  for (const line of text.split(/(?<=\n)(?![ \t])/)) {
    if (line === '\r\n' || line === '\n') continue;
    const name = line.slice(0, line.indexOf(':')).trim().toUpperCase();
    if (line.includes(':') && want.has(name) !== not) out.push(line.endsWith('\n') ? line : `${line}\r\n`);
  }
  out.push('\r\n');
  return Buffer.from(out.join(''), 'latin1');
}

/** The part's body with its Content-Transfer-Encoding undone; undefined for an encoding we do not know. */
export function decodedBody(data: Buffer, node: MimePart): Buffer | undefined {
  const body = data.subarray(node.bodyStart, node.end);
  const cte = (headerValue(node, 'Content-Transfer-Encoding') ?? '7bit').toLowerCase();
  if (cte === '7bit' || cte === '8bit' || cte === 'binary') return body;
  if (cte === 'base64') return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (cte === 'quoted-printable') return libqp.decode(body.toString('latin1'));
  return undefined;
}

const list = (items: Chunk[][]): Chunk[] => ['(', ...items.flatMap((x, i) => (i ? [' ', ...x] : x)), ')'];

function addresses(value: string | undefined, utf8: boolean): Chunk[] {
  if (value === undefined || value.trim() === '') return ['NIL'];
  const parsed = addressparser(value) as { name: string; address?: string; group?: { name: string; address?: string }[] }[];
  const one = (a: { name: string; address?: string }): Chunk[] => {
    const at = (a.address ?? '').lastIndexOf('@');
    const mailbox = at < 0 ? (a.address ?? '') : a.address!.slice(0, at);
    const host = at < 0 ? null : a.address!.slice(at + 1);
    return list([nstr(a.name || null, utf8), ['NIL'], nstr(mailbox || null, utf8), nstr(host, utf8)]);
  };
  const out: Chunk[][] = [];
  for (const a of parsed) {
    if (a.group) {
      // RFC 9051 §7.5.2: a group is marked by a NIL host around its members.
      out.push(list([['NIL'], ['NIL'], nstr(a.name, utf8), ['NIL']]), ...a.group.map(one), list([['NIL'], ['NIL'], ['NIL'], ['NIL']]));
    } else out.push(one(a));
  }
  return out.length ? ['(', ...out.flat(), ')'] : ['NIL'];
}

/** ENVELOPE of a message (its top or one inside a message/rfc822 part). */
export function envelope(msg: MimePart, utf8: boolean): Chunk[] {
  const h = (n: string) => headerValue(msg, n);
  const from = h('From');
  return list([
    nstr(h('Date'), utf8),
    nstr(h('Subject'), utf8),
    addresses(from, utf8),
    // RFC 9051 §7.5.2: Sender and Reply-To default to From.
    addresses(h('Sender') ?? from, utf8),
    addresses(h('Reply-To') ?? from, utf8),
    addresses(h('To'), utf8),
    addresses(h('Cc'), utf8),
    addresses(h('Bcc'), utf8),
    nstr(h('In-Reply-To'), utf8),
    nstr(h('Message-ID'), utf8),
  ]);
}

function params(p: Readonly<Record<string, string>>, utf8: boolean): Chunk[] {
  const entries = Object.entries(p).filter(([k]) => k !== '');
  return entries.length ? list(entries.flatMap(([k, v]) => [str(k.toUpperCase(), utf8), str(v, utf8)])) : ['NIL'];
}

function disposition(node: MimePart, utf8: boolean): Chunk[] {
  const d = headerValue(node, 'Content-Disposition');
  if (!d) return ['NIL'];
  const m = /^\s*([^;\s]+)\s*(?:;(.*))?$/s.exec(d);
  if (!m) return ['NIL'];
  const p: Record<string, string> = {};
  for (const piece of (m[2] ?? '').split(';')) {
    const kv = /^\s*([^=\s]+)\s*=\s*"?([^"]*)"?\s*$/.exec(piece);
    if (kv) p[kv[1]!.toLowerCase()] = kv[2]!;
  }
  return list([str(m[1]!.toLowerCase(), utf8), params(p, utf8)]);
}

/** BODYSTRUCTURE (`extended`) or BODY of a part. */
export function bodyStructure(node: MimePart, extended: boolean, utf8: boolean): Chunk[] {
  const ext = (more: Chunk[][]) => (extended ? more : []);
  const language = headerValue(node, 'Content-Language');
  const lang = language ? str(language, utf8) : ['NIL'];
  const location = nstr(headerValue(node, 'Content-Location'), utf8);
  if (node.parts.length) {
    const children = node.parts.map((p) => bodyStructure(p, extended, utf8));
    return ['(', ...children.flat(), ' ', ...str(node.subtype.toUpperCase(), utf8), ...ext([params(node.params, utf8), disposition(node, utf8), lang, location]).flatMap((x) => [' ', ...x]), ')'];
  }
  const fields: Chunk[][] = [
    str(node.type.toUpperCase(), utf8),
    str(node.subtype.toUpperCase(), utf8),
    params(node.params, utf8),
    nstr(headerValue(node, 'Content-ID'), utf8),
    nstr(headerValue(node, 'Content-Description'), utf8),
    str((headerValue(node, 'Content-Transfer-Encoding') ?? '7BIT').toUpperCase(), utf8),
    [String(node.end - node.bodyStart)],
  ];
  if (node.message) fields.push(envelope(node.message, utf8), bodyStructure(node.message, extended, utf8), [String(node.lines)]);
  else if (node.type === 'text') fields.push([String(node.lines)]);
  fields.push(...ext([nstr(headerValue(node, 'Content-MD5'), utf8), disposition(node, utf8), lang, location]));
  return list(fields);
}
