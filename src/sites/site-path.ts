import { HikyakuError } from '../mail/index.js';

const MAX_PATH = 1024;
const MAX_SEGMENT = 255;
const MAX_DEPTH = 32;

/**
 * A path inside a website as given by an upload (API, archive entry, SFTP), made relative
 * and checked: no `..`, no NUL or other control characters, no backslashes (a Windows
 * archive's separator would make one odd name), sensible lengths. '' is the site's root.
 * ERR_SITE_PATH with the reason otherwise.
 */
export function sitePath(raw: string): string {
  const bad = (why: string) => new HikyakuError('ERR_SITE_PATH', `${JSON.stringify(raw.slice(0, 100))} ${why}`);
  if (raw.length > MAX_PATH) throw bad(`is longer than ${MAX_PATH} characters`);
  if (/[\x00-\x1f\x7f]/.test(raw)) throw bad('holds control characters');
  if (raw.includes('\\')) throw bad('holds a backslash; use / between folders');
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw bad('leads outside the website (..)');
  if (segments.length > MAX_DEPTH) throw bad(`is more than ${MAX_DEPTH} folders deep`);
  if (segments.some((s) => Buffer.byteLength(s) > MAX_SEGMENT)) throw bad(`has a name longer than ${MAX_SEGMENT} bytes`);
  return segments.join('/');
}
