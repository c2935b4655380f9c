import { useEffect, useState, type FormEvent } from 'react';
import { api, type AutoReply } from '../api';
import { problemText, useI18n } from '../i18n';

/** 'YYYY-MM-DD' (the browser's day) ↔ an instant: a start at that day's midnight, an end after that whole day. */
const toDay = (iso: string | null, end: boolean) => {
  if (!iso) return '';
  const d = new Date(iso);
  if (end) d.setDate(d.getDate() - 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};
const fromDay = (day: string, end: boolean) => {
  if (!day) return null;
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y!, m! - 1, d! + (end ? 1 : 0)).toISOString();
};

/** The automatic reply of one account: the user's own (`/me/autoreply`) or an administrator's for a user. */
export function AutoReplyForm({ path, onMessage, onError }: { path: string; onMessage(m: string): void; onError(m: string): void }) {
  const { t, lang } = useI18n();
  const [reply, setReply] = useState<AutoReply>();
  const [start, setStart] = useState('');
  const [end, setEnd] = useState('');

  useEffect(() => {
    api<AutoReply>('GET', path).then(
      (r) => {
        setReply(r);
        setStart(toDay(r.startsAt, false));
        setEnd(toDay(r.endsAt, true));
      },
      (err: unknown) => onError(problemText(t, lang, err)),
    );
  }, [path, t, lang, onError]);

  if (!reply) return null;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    onError('');
    try {
      const { intervalDays: _, ...body } = reply;
      setReply(await api<AutoReply>('PUT', path, { ...body, startsAt: fromDay(start, false), endsAt: fromDay(end, true) }));
      onMessage(t('saved'));
    } catch (err) {
      onError(problemText(t, lang, err));
    }
  };
  return (
    <form className="grid" onSubmit={(e) => void submit(e)} aria-label={t('autoReply')}>
      <label className="check wide">
        <input type="checkbox" name="autoreply-on" checked={reply.enabled} onChange={(e) => setReply({ ...reply, enabled: e.target.checked })} />
        {t('autoReplyOn')}
      </label>
      <label className="wide">
        {t('autoReplySubject')}
        <input name="autoreply-subject" maxLength={200} value={reply.subject} onChange={(e) => setReply({ ...reply, subject: e.target.value })} />
      </label>
      <label className="wide">
        {t('autoReplyText')}
        <textarea name="autoreply-text" rows={5} maxLength={10000} value={reply.body} onChange={(e) => setReply({ ...reply, body: e.target.value })} />
      </label>
      <label>
        {t('autoReplyFrom')}
        <input type="date" name="autoreply-start" value={start} onChange={(e) => setStart(e.target.value)} />
      </label>
      <label>
        {t('autoReplyUntil')}
        <input type="date" name="autoreply-end" value={end} onChange={(e) => setEnd(e.target.value)} />
      </label>
      <p className="muted wide">{t('autoReplyHint', { days: reply.intervalDays })}</p>
      <button type="submit">{t('save')}</button>
    </form>
  );
}
