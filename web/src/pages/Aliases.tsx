import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, enc, type Alias, type Me } from '../api';
import { Table } from '../parts';
import { problemText, useI18n } from '../i18n';

export function Aliases({ me }: { me: Me }) {
  const { t, lang } = useI18n();
  const [items, setItems] = useState<Alias[]>();
  const [address, setAddress] = useState('');
  const [targets, setTargets] = useState('');
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');

  const load = useCallback(() => api<{ items: Alias[] }>('GET', '/aliases').then((r) => setItems(r.items), (err: unknown) => setError(problemText(t, lang, err))), [t, lang]);
  useEffect(() => void load(), [load]);

  const act = async (work: () => Promise<string>) => {
    setError('');
    try {
      setNotice(await work());
      await load();
    } catch (err) {
      setError(problemText(t, lang, err));
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const key = address.includes('@') ? address.trim() : `${address.trim()}@${me.domains[0] ?? ''}`;
    void act(async () => {
      const a = await api<Alias>('PUT', `/aliases/${enc(key)}`, { targets: targets.split(/[\s,]+/).filter(Boolean) });
      setAddress('');
      setTargets('');
      return t('aliasSaved', { address: a.address });
    });
  };

  return (
    <section>
      <h1>{t('aliasesTitle')}</h1>
      <p role="status" className="notice">
        {notice}
      </p>
      <form className="card grid" onSubmit={submit} aria-label={t('saveAlias')}>
        <label>
          {t('aliasAddress')}
          <input name="alias" required value={address} onChange={(e) => setAddress(e.target.value)} placeholder={`sales@${me.domains[0] ?? 'example.com'}`} />
        </label>
        <label>
          {t('targets')}
          <textarea name="targets" rows={2} required value={targets} onChange={(e) => setTargets(e.target.value)} />
        </label>
        <p role="alert" className="error wide">
          {error}
        </p>
        <button type="submit">{t('saveAlias')}</button>
      </form>
      {items && items.length === 0 && <p className="muted">{t('noAliases')}</p>}
      {items && items.length > 0 && (
        <Table caption={t('aliasesTitle')} headers={[t('address'), t('targets'), t('actions')]}>
            {items.map((a) => (
              <tr key={a.address}>
                <td>
                  {a.address} {a.catchAll && <span className="tag">{t('catchAll')}</span>}
                </td>
                <td>{a.targets.join(', ')}</td>
                <td>
                  <button type="button" className="danger" aria-label={`${t('remove')}: ${a.address}`} onClick={() => void act(async () => (await api('DELETE', `/aliases/${enc(a.address)}`), t('aliasRemoved', { address: a.address })))}>
                    {t('remove')}
                  </button>
                </td>
              </tr>
            ))}
        </Table>
      )}
    </section>
  );
}
