import { useEffect, useState } from 'react';
import { api, type AuditEntry } from '../api';
import { Table } from '../parts';
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
        <Table caption={t('auditTitle')} headers={[t('when'), t('who'), t('from'), t('what'), t('object')]}>
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
        </Table>
      )}
    </section>
  );
}
