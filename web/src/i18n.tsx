import { createContext, useContext } from 'react';
import type { ApiError } from './api';
import { en, type Key } from './strings-en';
import { ja } from './strings-ja';

export type { Key };

export type Lang = 'ja' | 'en';

const DICTS: Record<Lang, Record<Key, string>> = { en, ja };

export type T = (key: Key, vars?: Record<string, string | number>) => string;

export function translator(lang: Lang): T {
  return (key, vars = {}) => DICTS[lang][key].replace(/\{(\w+)\}/g, (_, v: string) => String(vars[v] ?? ''));
}

/** A problem in the reader's language when we know its code; the server's sentence otherwise. */
export function problemText(t: T, lang: Lang, err: unknown): string {
  const e = err as ApiError;
  const key = `err_${e.problem?.code}` as Key;
  if (key in DICTS[lang]) return t(key);
  return e.problem?.detail ?? String(err);
}

export function initialLang(): Lang {
  const saved = localStorage.getItem('hikyaku.lang');
  if (saved === 'ja' || saved === 'en') return saved;
  return navigator.language.toLowerCase().startsWith('ja') ? 'ja' : 'en';
}

export const I18n = createContext<{ lang: Lang; t: T; setLang(l: Lang): void }>({ lang: 'en', t: translator('en'), setLang: () => undefined });

export const useI18n = () => useContext(I18n);

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}
