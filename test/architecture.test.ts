import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT, removeDir, run, tempDir } from './helpers/service.js';

/**
 * The layering lint (`npm run lint`, dependency-cruiser with .dependency-cruiser.cjs) runs
 * in `npm test` on src/. This shows its rules bite: a scratch tree with one violation of
 * each kind must be refused, naming every one.
 */
test('the layering lint refuses each kind of violation', async () => {
  const dir = tempDir('hikyaku-lint-');
  try {
    const files: Record<string, string> = {
      'src/mail/index.ts': 'export const m = 1;\n',
      'src/delivery/index.ts': 'export const x = 1;\n',
      'src/delivery/inner.ts': 'export const y = 2;\n',
      'src/pop3/codec.ts': "import { readFileSync } from 'node:fs';\nimport { x } from '../delivery/index.js';\nexport const a = [readFileSync, x];\n",
      'src/servers/pop3/session.ts': 'export const w = 1;\n',
      'src/servers/smtp/server.ts':
        "import { z } from '../../backends/sqlite/index.js';\nimport { w } from '../pop3/session.js';\nimport { y } from '../../delivery/inner.js';\nimport { main } from '../../main.js';\nexport const b = [z, w, y, main];\n",
      'src/backends/sqlite/index.ts': "import Database from 'better-sqlite3';\nexport const z = Database;\n",
      'src/directory/cache.ts': "import Database from 'better-sqlite3';\nexport const d = Database;\n",
      'src/main.ts': 'export const main = 1;\n',
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    copyFileSync(join(ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    const r = await run(process.execPath, [join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'), '--config', '.dependency-cruiser.cjs', '--output-type', 'err', 'src'], { cwd: dir });
    assert.notEqual(r.code, 0);
    for (const rule of [
      'codecs-import-only-mail: src/pop3/codec.ts → src/delivery/index.ts',
      'codecs-do-no-io: src/pop3/codec.ts → fs',
      'servers-use-core-interfaces: src/servers/smtp/server.ts → src/backends/sqlite/index.ts',
      'servers-keep-to-themselves: src/servers/smtp/server.ts → src/servers/pop3/session.ts',
      'servers-enter-core-through-index: src/servers/smtp/server.ts → src/delivery/inner.ts',
      'nothing-imports-main: src/servers/smtp/server.ts → src/main.ts',
      'only-backends-use-drivers: src/directory/cache.ts → ',
    ]) {
      assert.ok(r.stdout.includes(rule), `${rule}\n${r.stdout}`);
    }
  } finally {
    removeDir(dir);
  }
});
