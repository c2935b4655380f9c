import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, type Account, type AccountPage, type Me } from '../api';
import { Field } from '../parts';
import { formatBytes, problemText, useI18n, type Key } from '../i18n';
import { AccountPanel } from './AccountPanel';
import { AccountImport } from './AccountImport';

type Sort = 'address' | 'name' | 'department' | 'quota' | 'created' | 'lastLogin';

export function Accounts({ me }: { me: Me }) {
  const { t, lang } = useI18n();
  const [domain, setDomain] = useState('');
  const [q, setQ] = useState('');
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState<Sort>('address');
  const [order, setOrder] = useState<'asc' | 'desc'>('asc');
  const [page, setPage] = useState(1);
  const [data, setData] = useState<AccountPage>();
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [editing, setEditing] = useState<string>();

  const load = useCallback(async () => {
    const params = new URLSearchParams({ sort, order, page: String(page), pageSize: '25' });
    if (domain) params.set('domain', domain);
    if (query) params.set('q', query);
    try {
      setData(await api<AccountPage>('GET', `/accounts?${params}`));
      setError('');
    } catch (err) {
      setError(problemText(t, lang, err));
    }
  }, [domain, query, sort, order, page, t, lang]);

  useEffect(() => void load(), [load]);

  const sortBy = (column: Sort) => {
    if (column === sort) setOrder(order === 'asc' ? 'desc' : 'asc');
    else {
      setSort(column);
      setOrder('asc');
    }
  };

  const header = (column: Sort | undefined, key: Key) => (
    <th scope="col" aria-sort={column === sort ? (order === 'asc' ? 'ascending' : 'descending') : undefined}>
      {column ? (
        <button type="button" className="link" onClick={() => sortBy(column)} aria-label={t('sortBy', { column: t(key) })}>
          {t(key)}
          {column === sort ? (order === 'asc' ? ' ▲' : ' ▼') : ''}
        </button>
      ) : (
        t(key)
      )}
    </th>
  );

  const pages = data ? Math.max(1, Math.ceil(data.total / data.pageSize)) : 1;

  return (
    <section>
      <h1>{t('accountsTitle')}</h1>
      <p role="status" className="notice">
        {notice}
      </p>
      <AddAccount
        domains={me.domains}
        onAdded={(msg) => {
          setNotice(msg);
          void load();
        }}
      />
      <AccountImport
        onImported={(msg) => {
          setNotice(msg);
          void load();
        }}
      />
      <form
        className="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setPage(1);
          setQuery(q);
        }}
      >
        {me.domains.length > 1 && (
          <label>
            {t('domain')}
            <select value={domain} onChange={(e) => (setDomain(e.target.value), setPage(1))}>
              <option value="">{t('allDomains')}</option>
              {me.domains.map((d) => (
                <option key={d}>{d}</option>
              ))}
            </select>
          </label>
        )}
        <label>
          {t('search')}
          <input type="search" value={q} placeholder={t('searchPlaceholder')} onChange={(e) => setQ(e.target.value)} />
        </label>
        <button type="submit">{t('search')}</button>
      </form>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {data?.usageUnavailable && <p className="warning">{t('usageUnavailable')}</p>}
      {data && (
        <table className="list">
          <caption className="sr-only">{t('accountsTitle')}</caption>
          <thead>
            <tr>
              {header('address', 'address')}
              {header('name', 'name')}
              {header('department', 'department')}
              {header(undefined, 'role')}
              {header(undefined, 'state')}
              {header('quota', 'usage')}
              {header('lastLogin', 'lastLogin')}
              {header(undefined, 'actions')}
            </tr>
          </thead>
          <tbody>
            {data.items.length === 0 && (
              <tr>
                <td colSpan={8} className="muted">
                  {t('noAccounts')}
                </td>
              </tr>
            )}
            {data.items.map((a) => (
              <AccountRow key={a.address} account={a} onEdit={() => setEditing(a.address)} />
            ))}
          </tbody>
        </table>
      )}
      {data && pages > 1 && (
        <nav className="pager" aria-label="pages">
          <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
            {t('prev')}
          </button>
          <span>{t('pageOf', { page, pages, total: data.total })}</span>
          <button type="button" disabled={page >= pages} onClick={() => setPage(page + 1)}>
            {t('next')}
          </button>
        </nav>
      )}
      {editing && (
        <AccountPanel
          address={editing}
          me={me}
          onClose={(msg) => {
            setEditing(undefined);
            if (msg) setNotice(msg);
            void load();
          }}
        />
      )}
    </section>
  );
}

function AccountRow({ account: a, onEdit }: { account: Account; onEdit(): void }) {
  const { t, lang } = useI18n();
  const usage = a.usage ? `${formatBytes(a.usage.bytes)} / ${a.quotaBytes ? formatBytes(a.quotaBytes) : t('unlimited')}` : t('unavailable');
  return (
    <tr>
      <td>{a.address}</td>
      <td>{a.name}</td>
      <td>{a.department}</td>
      <td>{t(`role_${a.role}` as Key)}</td>
      <td className={a.state === 'disabled' ? 'bad' : undefined}>{t(a.state)}</td>
      <td>{usage}</td>
      <td>{a.lastLogin ? new Date(a.lastLogin.at).toLocaleString(lang === 'ja' ? 'ja-JP' : 'en-GB') : t('never')}</td>
      <td>
        <button type="button" onClick={onEdit} aria-label={`${t('edit')}: ${a.address}`}>
          {t('edit')}
        </button>
      </td>
    </tr>
  );
}

function AddAccount({ domains, onAdded }: { domains: string[]; onAdded(message: string): void }) {
  const { t, lang } = useI18n();
  const [local, setLocal] = useState('');
  const [domain, setDomain] = useState(domains[0] ?? '');
  const [name, setName] = useState('');
  const [department, setDepartment] = useState('');
  const [quotaMb, setQuotaMb] = useState('0');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [generated, setGenerated] = useState('');

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError('');
    setGenerated('');
    try {
      const address = `${local.trim()}@${domain}`;
      const res = await api<{ account: Account; password?: string }>('POST', '/accounts', {
        address,
        name,
        department,
        quotaBytes: Math.round(Number(quotaMb || '0') * 1024 * 1024),
        ...(password ? { password } : {}),
      });
      if (res.password) setGenerated(t('generatedPassword', { password: res.password }));
      setLocal('');
      setName('');
      setDepartment('');
      setPassword('');
      onAdded(t('accountAdded', { address: res.account.address }));
    } catch (err) {
      setError(problemText(t, lang, err));
    }
  };

  return (
    <details className="card">
      <summary>{t('addAccount')}</summary>
      <form onSubmit={(e) => void submit(e)} className="grid" aria-label={t('addAccount')}>
        <label>
          {t('localPart')}
          <input name="local" required value={local} onChange={(e) => setLocal(e.target.value)} />
        </label>
        <label>
          {t('domain')}
          <select name="domain" value={domain} onChange={(e) => setDomain(e.target.value)}>
            {domains.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
        </label>
        <Field label={t('name')} name="name" value={name} onChange={setName} />
        <Field label={t('department')} name="department" value={department} onChange={setDepartment} />
        <Field label={t('quotaMb')} name="quota" type="number" min="0" value={quotaMb} onChange={setQuotaMb} />
        <label>
          {t('passwordOptional')}
          <input name="password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <p role="alert" className="error wide">
          {error}
        </p>
        {generated && <p className="notice wide generated">{generated}</p>}
        <button type="submit">{t('add')}</button>
      </form>
    </details>
  );
}
