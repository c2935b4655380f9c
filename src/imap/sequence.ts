/**
 * Sequence sets (RFC 9051 §9: sequence-set): "1:3,5,7:*". "*" is the largest number in
 * use: the last message's sequence number, or the largest UID.
 */

/** One range; 0 stands for "*". */
export type SeqRange = readonly [number, number];

const MAX = 0xffffffff;

/** Parses a sequence set; undefined when it is not one. */
export function parseSequenceSet(text: string): SeqRange[] | undefined {
  if (text.length === 0 || text.length > 100_000) return undefined;
  const out: SeqRange[] = [];
  for (const piece of text.split(',')) {
    const m = /^(\*|[1-9]\d{0,9})(?::(\*|[1-9]\d{0,9}))?$/.exec(piece);
    if (!m) return undefined;
    const a = m[1] === '*' ? 0 : Number(m[1]);
    const b = m[2] === undefined ? a : m[2] === '*' ? 0 : Number(m[2]);
    if (a > MAX || b > MAX) return undefined;
    out.push([a, b]);
  }
  return out;
}

/** True if `n` is in the set, with "*" meaning `largest`. */
export function inSequenceSet(set: readonly SeqRange[], n: number, largest: number): boolean {
  for (const [a0, b0] of set) {
    const a = a0 === 0 ? largest : a0;
    const b = b0 === 0 ? largest : b0;
    if (n >= Math.min(a, b) && n <= Math.max(a, b)) return true;
  }
  return false;
}

/** The set as text, compressing runs: [1,2,3,5] → "1:3,5" (for COPYUID, ESEARCH, VANISHED). */
export function formatSequenceSet(numbers: readonly number[]): string {
  const sorted = [...numbers].sort((x, y) => x - y);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Numbers in their given order, as text, without compressing (COPYUID pairs must line up). */
export function formatOrderedSet(numbers: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length; ) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    parts.push(i === j ? String(numbers[i]) : `${numbers[i]}:${numbers[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
