import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT } from './helpers/service.js';

/**
 * The layering of STYLE.md, checked on every import in src/ (the lint rule in CI):
 * - codecs (mail, message) import only mail and no I/O;
 * - core modules never import servers, backends or database drivers;
 * - servers use core interfaces only, never a backend or a driver;
 * - backends are imported only by the wiring (wiring.ts, delivery-thread.ts); nothing imports main.ts;
 * - another module is entered through its index.ts.
 */
const SRC = join(ROOT, 'src');
const CODECS = ['mail', 'message'];
const CORE = ['config', 'observability', 'directory', 'queue', 'mailstore', 'inbound', 'delivery', 'cli'];
const DRIVERS = ['better-sqlite3', 'pg', 'kysely'];
const IO = ['node:net', 'node:tls', 'node:fs', 'node:fs/promises', 'node:http', 'pino', ...DRIVERS];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

function moduleOf(file: string): string {
  const rel = relative(SRC, file).split('/');
  return rel.length === 1 ? rel[0]!.replace(/\.ts$/, '') : rel[0] === 'servers' || rel[0] === 'backends' ? rel[0] : rel[0]!;
}

test('imports follow the layering', () => {
  const problems: string[] = [];
  for (const file of files(SRC)) {
    const mod = moduleOf(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
      const spec = m[1]!;
      const where = `${relative(ROOT, file)} imports ${spec}`;
      if (!spec.startsWith('.')) {
        if (CODECS.includes(mod) && IO.includes(spec)) problems.push(`${where}: codecs do no I/O`);
        if ((CORE.includes(mod) || mod === 'servers') && DRIVERS.includes(spec)) problems.push(`${where}: only backends use database drivers`);
        continue;
      }
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      const targetMod = moduleOf(target);
      if (targetMod === mod) continue;
      if (targetMod === 'main') problems.push(`${where}: nothing imports main.ts`);
      if (CODECS.includes(mod) && targetMod !== 'mail') problems.push(`${where}: codecs import only mail`);
      if (targetMod === 'backends' && mod !== 'wiring' && mod !== 'delivery-thread') problems.push(`${where}: backends are imported only by the wiring`);
      if (CORE.includes(mod) && (targetMod === 'servers' || targetMod === 'wiring')) problems.push(`${where}: core does not depend on protocol servers or wiring`);
      const rel = relative(SRC, target).split('/');
      if (rel.length > 1 && !target.endsWith('/index.ts') && !(rel[0] === 'servers' && mod === 'servers')) problems.push(`${where}: enter another module through its index.ts`);
    }
  }
  assert.deepEqual(problems, []);
});
