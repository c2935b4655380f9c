import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, enc, type Me } from '../api';
import { Messages } from '../parts';
import { problemText, useI18n } from '../i18n';
import { PolicyForm } from './PolicyForm';
import { Tokens } from './Tokens';
import { DnsRecords } from './DnsRecords';
import { ZoneRecords } from './ZoneRecords';
import { Website } from './Website';

interface DomainRow {
  name: string;
  tenant: string;
  accounts: number;
  aliases: number;
  retentionDays: number | null;
}

/** The domain's retention rule: delete mail older than N days, or keep it (empty). */
function Retention({ domain, initial, onMessage, onError }: { domain: string; initial: number | null; onMessage(m: string): void; onError(m: string): void }) {
  const { t, lang } = useI18n();
  const [days, setDays] = useState(initial === null ? '' : String(initial));
  const save = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api('PUT', `/domains/${enc(domain)}/retention`, { days: days.trim() === '' ? null : Number(days) });
      onMessage(t('saved'));
    } catch (err) {
      onError(problemText(t, lang, err));
    }
  };
  return (
    <form className="filters" onSubmit={(e) => void save(e)} aria-label={t('retention')}>
      <label>
        {t('retentionDays')}
        <input name="retention-days" type="number" min="1" max="3650" value={days} onChange={(e) => setDays(e.target.value)} />
      </label>
      <button type="submit">{t('save')}</button>
    </form>
  );
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
          <h3>{t('retention')}</h3>
          <Retention domain={d.name} initial={d.retentionDays} onMessage={setNotice} onError={onError} />
          <DnsRecords domain={d.name} onMessage={setNotice} onError={onError} />
          <ZoneRecords domain={d.name} onMessage={setNotice} onError={onError} />
          <Website domain={d.name} onMessage={setNotice} onError={onError} />
        </section>
      ))}
      {(me.role === 'tenant-admin' || me.kind === 'operator') && <Tokens onMessage={setNotice} onError={onError} />}
    </section>
  );
}
