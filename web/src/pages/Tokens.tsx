import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api } from '../api';
import { Table } from '../parts';
import { problemText, useI18n } from '../i18n';

interface Token {
  id: string;
  name: string;
  tenant: string | null;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** API tokens for automation: made here, the secret shown once, revoked at once. */
export function Tokens({ onMessage, onError }: { onMessage(m: string): void; onError(m: string): void }) {
  const { t, lang } = useI18n();
  const [items, setItems] = useState<Token[]>();
  const [name, setName] = useState('');
  const [secret, setSecret] = useState('');
  const date = (iso: string | null) => (iso ? new Date(iso).toLocaleString(lang === 'ja' ? 'ja-JP' : 'en-GB') : t('never'));
  const load = useCallback(() => api<{ items: Token[] }>('GET', '/tokens').then((r) => setItems(r.items), (err: unknown) => onError(problemText(t, lang, err))), [t, lang, onError]);
  useEffect(() => void load(), [load]);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const made = await api<Token & { token: string }>('POST', '/tokens', { name });
      setSecret(made.token);
      setName('');
      await load();
    } catch (err) {
      onError(problemText(t, lang, err));
    }
  };
  const revoke = async (token: Token) => {
    try {
      await api('DELETE', `/tokens/${token.id}`);
      onMessage(t('tokenRevoked', { name: token.name }));
      await load();
    } catch (err) {
      onError(problemText(t, lang, err));
    }
  };

  return (
    <section className="card" aria-labelledby="tokens-title">
      <h2 id="tokens-title">{t('tokensTitle')}</h2>
      <p className="muted">{t('tokensHint')}</p>
      <form className="filters" onSubmit={(e) => void create(e)} aria-label={t('tokenCreate')}>
        <label>
          {t('tokenName')}
          <input name="token-name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit">{t('tokenCreate')}</button>
      </form>
      {secret && <p className="notice generated">{t('tokenShownOnce', { token: secret })}</p>}
      {items && items.length > 0 && (
        <Table caption={t('tokensTitle')} headers={[t('tokenName'), t('who'), t('when'), t('tokenLastUsed'), t('actions')]}>
            {items.map((token) => (
              <tr key={token.id}>
                <td>{token.name}</td>
                <td>{token.createdBy}</td>
                <td>{date(token.createdAt)}</td>
                <td>{date(token.lastUsedAt)}</td>
                <td>
                  <button type="button" className="danger" aria-label={`${t('tokenRevoke')}: ${token.name}`} onClick={() => void revoke(token)}>
                    {t('tokenRevoke')}
                  </button>
                </td>
              </tr>
            ))}
        </Table>
      )}
    </section>
  );
}
