import { useEffect, useState } from 'react';
import { api, type AuditEntry } from '../api';
import { problemText, useI18n } from '../i18n';

export function Audit() {
  const { t, lang } = useI18n();
  const [items, setItems] = useState<AuditEntry[]>();
  const [error, setError] = useState('');
  useEffect(() => {
    api<{ items: AuditEntry[] }>('GET', '/audit?limit=200').then((r) => setItems(r.items), (err: unknown) => setError(problemText(t, lang, err)));
  }, [t, lang]);
  return (
    <section>
      <h1>{t('auditTitle')}</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {items && (
        <table className="list">
          <caption className="sr-only">{t('auditTitle')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('when')}</th>
              <th scope="col">{t('who')}</th>
              <th scope="col">{t('from')}</th>
              <th scope="col">{t('what')}</th>
              <th scope="col">{t('object')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((e) => (
              <tr key={e.id}>
                <td>{new Date(e.at).toLocaleString(lang === 'ja' ? 'ja-JP' : 'en-GB')}</td>
                <td>{e.actor}</td>
                <td>{e.ip}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td>{e.target}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
