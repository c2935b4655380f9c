/**
 * The layering of STYLE.md, checked on every import (type-only ones included) by
 * `npm run lint`, part of `npm test`:
 * - codecs (mail, message, pop3, imap, sasl) import only mail, and do no I/O;
 * - core modules never import protocol servers, backends, the wiring or a database driver;
 * - servers use core interfaces only: no backend, no driver, no wiring, and no other
 *   server's internals;
 * - backends are imported only by the wiring (wiring*.ts, delivery-thread.ts); nothing imports main.ts;
 * - another module is entered through its index.ts.
 * Tests (test/, *.test.ts) are not checked: they may open backends directly.
 */
const CODECS = '(mail|message|pop3|imap|sasl)';
const CORE = '(config|observability|directory|queue|mailstore|inbound|delivery|cli|auth|notices|load|rehearsal|zones|autoconfig|sites|processes)';
const DRIVERS = '(^|/)node_modules/(better-sqlite3|pg|kysely)/|^(better-sqlite3|pg|kysely)$';
const IO = '^(node:)?(net|tls|fs|fs/promises|http|https|dgram|child_process|worker_threads)$|^pino$';
const NOT_TESTS = '\\.test\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'codecs-import-only-mail',
      comment: 'A codec (bytes in, commands out) depends on the shared vocabulary only.',
      severity: 'error',
      from: { path: `^src/${CODECS}/`, pathNot: NOT_TESTS },
      to: { path: '^src/', pathNot: [`^src/mail/`, `^src/$1/`] },
    },
    {
      name: 'codecs-do-no-io',
      comment: 'No sockets, files, threads or logger in a codec.',
      severity: 'error',
      from: { path: `^src/${CODECS}/`, pathNot: NOT_TESTS },
      to: { path: IO },
    },
    {
      name: 'core-above-nothing',
      comment: 'Core does not depend on protocol servers, backends or the wiring.',
      severity: 'error',
      from: { path: `^src/${CORE}/`, pathNot: NOT_TESTS },
      to: { path: '^src/(servers|backends)/|^src/(wiring|main|delivery-thread)\\.ts$' },
    },
    {
      name: 'only-backends-use-drivers',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/backends/', NOT_TESTS] },
      to: { path: DRIVERS },
    },
    {
      name: 'servers-use-core-interfaces',
      comment: 'A session calls services, never a backend or the wiring.',
      severity: 'error',
      from: { path: '^src/servers/', pathNot: NOT_TESTS },
      to: { path: '^src/backends/|^src/(wiring|main|delivery-thread)\\.ts$' },
    },
    {
      name: 'servers-keep-to-themselves',
      comment: "One protocol server does not reach into another's files.",
      severity: 'error',
      from: { path: '^src/servers/([^/]+)/', pathNot: NOT_TESTS },
      to: { path: '^src/servers/[^/]+/', pathNot: '^src/servers/$1/' },
    },
    {
      name: 'backends-only-from-wiring',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/backends/', '^src/(wiring|wiring-portal|wiring-stores|wiring-delivery|delivery-thread|session-worker)\\.ts$', NOT_TESTS] },
      to: { path: '^src/backends/' },
    },
    {
      name: 'nothing-imports-main',
      severity: 'error',
      from: {},
      to: { path: '^src/main\\.ts$' },
    },
    {
      name: 'enter-modules-through-index',
      comment: "Another module's files are reached through its index.ts only.",
      severity: 'error',
      from: { path: '^src/([^/]+)/', pathNot: '^src/servers/' },
      to: { path: '^src/([^/]+)/.+\\.ts$', pathNot: ['^src/$1/', '/index\\.ts$'] },
    },
    {
      name: 'wiring-enters-modules-through-index',
      severity: 'error',
      from: { path: '^src/[^/]+\\.ts$' },
      to: { path: '^src/[^/]+/.+\\.ts$', pathNot: '^src/[^/]+/index\\.ts$|^src/backends/[^/]+/index\\.ts$' },
    },
    {
      name: 'servers-enter-core-through-index',
      severity: 'error',
      from: { path: '^src/servers/' },
      to: { path: `^src/${CORE}/.+\\.ts$|^src/${CODECS}/.+\\.ts$`, pathNot: '/index\\.ts$' },
    },
  ],
  options: {
    // TypeScript 7 has no compiler API for dependency-cruiser to use: swc parses the sources.
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
  },
};
