import { useEffect, useState, type FormEvent } from 'react';
import { api, type Policy } from '../api';
import { problemText, useI18n, type Key } from '../i18n';

const SWITCHES: [keyof Omit<Policy, 'allowFrom' | 'inherited'>, Key][] = [
  ['changePassword', 'permChangePassword'],
  ['forwardOutside', 'permForwardOutside'],
  ['autoReply', 'permAutoReply'],
  ['pop3', 'permPop3'],
  ['imap', 'permImap'],
  ['submission', 'permSubmission'],
];

/** What users may change and where they log in from: a domain's (`/domains/x/policy`) or one account's. */
export function PolicyForm({ path, account, onMessage, onError }: { path: string; account: boolean; onMessage(m: string): void; onError(m: string): void }) {
  const { t, lang } = useI18n();
  const [policy, setPolicy] = useState<Policy>();
  const [nets, setNets] = useState('');

  useEffect(() => {
    api<Policy>('GET', path).then(
      (p) => {
        setPolicy(p);
        setNets(p.allowFrom.join('\n'));
      },
      (err: unknown) => onError(problemText(t, lang, err)),
    );
  }, [path, t, lang, onError]);
  if (!policy) return null;

  const inherited = account && policy.inherited === true;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    onError('');
    try {
      if (inherited) {
        await api('DELETE', path);
      } else {
        const { inherited: _, ...body } = policy;
        setPolicy(await api<Policy>('PUT', path, { ...body, allowFrom: nets.split(/[\s,]+/).filter(Boolean) }));
      }
      onMessage(t('saved'));
    } catch (err) {
      onError(problemText(t, lang, err));
    }
  };

  return (
    <form className="grid" onSubmit={(e) => void submit(e)} aria-label={t('permissions')}>
      {account && (
        <label className="check wide">
          <input type="checkbox" name="inherit" checked={inherited} onChange={(e) => setPolicy({ ...policy, inherited: e.target.checked })} />
          {t('permInherit')}
        </label>
      )}
      <fieldset className="wide column" disabled={inherited}>
        <legend className="sr-only">{t('permissions')}</legend>
        {SWITCHES.map(([field, key]) => (
          <label className="check" key={field}>
            <input type="checkbox" name={field} checked={policy[field]} onChange={(e) => setPolicy({ ...policy, [field]: e.target.checked })} />
            {t(key)}
          </label>
        ))}
        <label>
          {t('permAllowFrom')}
          <textarea name="allow-from" rows={3} value={nets} onChange={(e) => setNets(e.target.value)} placeholder="192.0.2.0/24" />
        </label>
      </fieldset>
      <button type="submit">{t('save')}</button>
    </form>
  );
}
