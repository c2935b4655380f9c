import { useCallback, useEffect, useState } from 'react';
import { api, enc, type Me } from '../api';
import { Messages } from '../parts';
import { problemText, useI18n } from '../i18n';
import { PolicyForm } from './PolicyForm';
import { Tokens } from './Tokens';
import { DnsRecords } from './DnsRecords';

interface DomainRow {
  name: string;
  tenant: string;
  accounts: number;
  aliases: number;
}

/** The domains an administrator manages, each with what its users may change. */
export function Domains({ me }: { me: Me }) {
  const { t, lang } = useI18n();
  const [items, setItems] = useState<DomainRow[]>();
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const onError = useCallback((m: string) => setError(m), []);
  useEffect(() => {
    api<{ items: DomainRow[] }>('GET', '/domains').then((r) => setItems(r.items), (err: unknown) => setError(problemText(t, lang, err)));
  }, [t, lang]);
  return (
    <section>
      <h1>{t('domainsTitle')}</h1>
      <Messages notice={notice} error={error} />
      {items?.map((d) => (
        <section className="card" key={d.name} aria-labelledby={`domain-${d.name}`}>
          <h2 id={`domain-${d.name}`}>{d.name}</h2>
          <p className="muted">{t('domainCounts', { accounts: d.accounts, aliases: d.aliases })}</p>
          <h3>{t('permissions')}</h3>
          <PolicyForm path={`/domains/${enc(d.name)}/policy`} account={false} onMessage={setNotice} onError={onError} />
          <DnsRecords domain={d.name} onMessage={setNotice} onError={onError} />
        </section>
      ))}
      {(me.role === 'tenant-admin' || me.kind === 'operator') && <Tokens onMessage={setNotice} onError={onError} />}
    </section>
  );
}
