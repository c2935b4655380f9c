import { AddressError, HikyakuError, domainOf, normalizeAddress, parseDomain } from '../mail/index.js';
import { generatePassword, hashPassword, type DirectoryStore } from '../directory/index.js';
import { CliError, formatSize, parseSize, printTable, type Io } from './output.js';

export interface Flags {
  readonly json: boolean;
  readonly force: boolean;
  readonly passwordStdin: boolean;
  readonly keepCopy: boolean;
  readonly quota?: string;
}

export const DIRECTORY_USAGE = `  domain add NAME | list | remove NAME [--force]
  account add ADDRESS [--password-stdin] [--quota SIZE] | list [DOMAIN]
          passwd ADDRESS [--password-stdin] | quota ADDRESS SIZE | remove ADDRESS
  alias add ADDRESS|@DOMAIN TARGET... | list [DOMAIN] | remove ADDRESS [TARGET...]
  forward set ACCOUNT TARGET... [--keep-copy] | list [DOMAIN] | remove ACCOUNT`;

function address(text: string | undefined, what = 'ADDRESS'): string {
  if (!text) throw new CliError(`missing ${what}`, 2);
  try {
    return normalizeAddress(text);
  } catch (err) {
    if (err instanceof AddressError) throw new CliError(err.message, 2);
    throw err;
  }
}

function domain(text: string | undefined): string {
  if (!text) throw new CliError('missing domain NAME', 2);
  try {
    return parseDomain(text);
  } catch (err) {
    if (err instanceof AddressError) throw new CliError(err.message, 2);
    throw err;
  }
}

/** An alias key: an address, or `@domain` for a catch-all. */
function aliasKey(text: string | undefined): string {
  if (text?.startsWith('@')) return '@' + domain(text.slice(1));
  return address(text);
}

/** Targets must be addresses in hosted domains until relay to other domains exists. */
async function targets(store: DirectoryStore, list: string[]): Promise<string[]> {
  if (list.length === 0) throw new CliError('give at least one TARGET address', 2);
  const hosted = new Set((await store.listDomains()).map((d) => d.name));
  const out = list.map((t) => address(t, 'TARGET'));
  for (const t of out) if (!hosted.has(domainOf(t))) throw new HikyakuError('ERR_TARGET_NOT_HOSTED', t);
  return [...new Set(out)];
}

async function password(io: Io, flags: Flags): Promise<{ value: string; generated: boolean }> {
  if (!flags.passwordStdin) return { value: generatePassword(), generated: true };
  const value = (await io.readStdin()).replace(/\r?\n$/, '');
  if (value.length < 8) throw new CliError('the password must have at least 8 characters');
  return { value, generated: false };
}

/** Runs `hikyaku <group> <action> ...` for domains, accounts, aliases and forwards. */
export async function runDirectoryCommand(store: DirectoryStore, group: string, action: string | undefined, args: string[], flags: Flags, io: Io): Promise<void> {
  switch (`${group} ${action ?? ''}`) {
    case 'domain add': {
      const d = await store.addDomain(domain(args[0]));
      return io.out(`domain ${d.name} added`);
    }
    case 'domain list':
      return printTable(io, flags.json, await store.listDomains(), [['name', 'DOMAIN']]);
    case 'domain remove':
      await store.removeDomain(domain(args[0]), flags.force);
      return io.out(`domain ${args[0]} removed`);

    case 'account add': {
      const addr = address(args[0]);
      const quotaBytes = flags.quota ? parseSize(flags.quota) : 0;
      const pw = await password(io, flags);
      await store.addAccount({ address: addr, passwordHash: await hashPassword(pw.value), quotaBytes });
      io.out(`account ${addr} added (quota ${formatSize(quotaBytes)})`);
      if (pw.generated) io.out(`password: ${pw.value}  (shown once; store it now)`);
      return;
    }
    case 'account list': {
      const rows = await store.listAccounts(args[0] ? domain(args[0]) : undefined);
      return printTable(
        io,
        flags.json,
        rows.map((a) => ({ address: a.address, domain: a.domain, quotaBytes: a.quotaBytes, quota: formatSize(a.quotaBytes), createdAt: new Date(a.createdAt).toISOString() })),
        [['address', 'ADDRESS'], ['quota', 'QUOTA'], ['createdAt', 'CREATED']],
      );
    }
    case 'account passwd': {
      const addr = address(args[0]);
      const pw = await password(io, flags);
      await store.setPassword(addr, await hashPassword(pw.value));
      io.out(`password of ${addr} changed`);
      if (pw.generated) io.out(`password: ${pw.value}  (shown once; store it now)`);
      return;
    }
    case 'account quota': {
      const addr = address(args[0]);
      if (!args[1]) throw new CliError('missing SIZE (e.g. 2G, or 0 for no limit)', 2);
      const bytes = parseSize(args[1]);
      await store.setQuota(addr, bytes);
      return io.out(`quota of ${addr} set to ${formatSize(bytes)}`);
    }
    case 'account remove': {
      const addr = address(args[0]);
      await store.removeAccount(addr);
      return io.out(`account ${addr} removed (its stored mail is kept)`);
    }

    case 'alias add': {
      const key = aliasKey(args[0]);
      const existing = (await store.listAliases(domainOf(key))).find((a) => a.address === key);
      const merged = [...new Set([...(existing?.targets ?? []), ...(await targets(store, args.slice(1)))])];
      const a = await store.setAlias(key, merged);
      return io.out(`alias ${a.address} → ${a.targets.join(', ')}`);
    }
    case 'alias list': {
      const rows = await store.listAliases(args[0] ? domain(args[0]) : undefined);
      return printTable(io, flags.json, rows.map((a) => ({ ...a, catchAll: a.address.startsWith('@') })), [['address', 'ALIAS'], ['targets', 'TARGETS']]);
    }
    case 'alias remove': {
      const key = aliasKey(args[0]);
      const drop = args.slice(1).map((t) => address(t, 'TARGET'));
      const existing = (await store.listAliases(domainOf(key))).find((a) => a.address === key);
      if (!existing) throw new HikyakuError('ERR_ALIAS_UNKNOWN', key);
      const left = existing.targets.filter((t) => !drop.includes(t));
      if (drop.length === 0 || left.length === 0) {
        await store.removeAlias(key);
        return io.out(`alias ${key} removed`);
      }
      await store.setAlias(key, left);
      return io.out(`alias ${key} → ${left.join(', ')}`);
    }

    case 'forward set': {
      const acct = address(args[0], 'ACCOUNT');
      const f = await store.setForward(acct, await targets(store, args.slice(1)), flags.keepCopy);
      return io.out(`mail to ${f.account} is forwarded to ${f.targets.join(', ')}${f.keepCopy ? ', keeping a copy' : ''}`);
    }
    case 'forward list': {
      const rows = await store.listForwards(args[0] ? domain(args[0]) : undefined);
      return printTable(io, flags.json, rows.map((f) => ({ ...f })), [['account', 'ACCOUNT'], ['targets', 'FORWARDED TO'], ['keepCopy', 'KEEPS COPY']]);
    }
    case 'forward remove': {
      const acct = address(args[0], 'ACCOUNT');
      await store.removeForward(acct);
      return io.out(`forwarding of ${acct} removed`);
    }
    default:
      throw new CliError(`unknown command "${group}${action ? ' ' + action : ''}"; commands:\n${DIRECTORY_USAGE}`, 2);
  }
}
