import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api } from '../api';
import { problemText, useI18n, type Key } from '../i18n';
import { Messages } from '../parts';

export interface PublicNotice {
  id: number;
  kind: 'maintenance' | 'incident';
  title: string;
  body: string;
  services: string[];
  startsAt: string;
  endsAt: string | null;
  serviceStops: boolean;
  revision: number;
  updatedAt: string;
  closedAt: string | null;
  tenants?: string[];
  /** Operators' view: a draft waits for one of them to publish it; an automatic one came from the status signals. */
  draft?: boolean;
  autoService?: string | null;
}

const SERVICES = ['receiving', 'sending', 'mailboxes', 'member-site'] as const;

/** Notices as customers see them: on the login page and above every page. */
export function NoticeBanner({ items }: { items: PublicNotice[] }) {
  const { t, lang } = useI18n();
  if (items.length === 0) return null;
  const when = (iso: string) => new Date(iso).toLocaleString(lang === 'ja' ? 'ja-JP' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' });
  return (
    <section className="notices" aria-label={t('noticesTitle')}>
      {items.map((n) => (
        <article key={n.id} className={`banner ${n.kind}`}>
          <h2>
            <span className="tag">{t(n.kind === 'incident' ? 'noticeIncident' : 'noticeMaintenance')}</span> {n.title}
            {n.revision > 0 && <span className="muted"> ({t('noticeUpdated', { when: when(n.updatedAt) })})</span>}
          </h2>
          <p className="muted">
            {when(n.startsAt)}
            {n.endsAt ? ` – ${when(n.endsAt)}` : ''} · {n.services.map((s) => t(`service_${s}` as Key)).join(', ')}
            {n.serviceStops ? ` · ${t('noticeStops')}` : ''}
          </p>
          <p className="pre">{n.body}</p>
        </article>
      ))}
    </section>
  );
}

const local = (iso: string | null) => (iso ? new Date(new Date(iso).getTime() - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16) : '');
const fromLocal = (v: string) => (v ? new Date(v).toISOString() : null);

/** The operators' notices: write, revise, close. */
export function Notices() {
  const { t, lang } = useI18n();
  const [items, setItems] = useState<PublicNotice[]>([]);
  const [editing, setEditing] = useState<number>();
  const empty = { kind: 'maintenance' as const, title: '', body: '', services: ['sending'] as string[], startsAt: local(new Date().toISOString()), endsAt: '', serviceStops: false };
  const [form, setForm] = useState(empty);
  const [mailAdmins, setMailAdmins] = useState(false);
  const [notice, setNotice] = useState('');
  const [error, setError] = useState('');
  const load = useCallback(() => api<{ items: PublicNotice[] }>('GET', '/notices').then((r) => setItems(r.items), (err: unknown) => setError(problemText(t, lang, err))), [t, lang]);
  useEffect(() => void load(), [load]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError('');
    try {
      const body = { ...form, startsAt: fromLocal(form.startsAt), endsAt: fromLocal(form.endsAt), mailAdmins };
      const saved = await (editing ? api<{ mailedTo: number }>('PUT', `/notices/${editing}`, body) : api<{ mailedTo: number }>('POST', '/notices', body));
      setNotice(t(editing ? 'noticeRevised' : 'noticePublished') + (mailAdmins ? ` ${t('noticeMailed', { n: saved.mailedTo })}` : ''));
      setMailAdmins(false);
      setEditing(undefined);
      setForm(empty);
      await load();
    } catch (err) {
      setError(problemText(t, lang, err));
    }
  };
  const publish = async (id: number) => {
    try {
      const r = await api<{ mailedTo: number }>('POST', `/notices/${id}/publish`, { mailAdmins });
      setNotice(t('noticePublished') + (mailAdmins ? ` ${t('noticeMailed', { n: r.mailedTo })}` : ''));
    } catch (err) {
      setError(problemText(t, lang, err));
    }
    await load();
  };
  const close = async (id: number) => {
    await api('POST', `/notices/${id}/close`).catch((err: unknown) => setError(problemText(t, lang, err)));
    setNotice(t('noticeClosed'));
    await load();
  };

  return (
    <section>
      <h1>{t('noticesTitle')}</h1>
      <Messages notice={notice} error={error} />
      <form className="card grid" onSubmit={(e) => void submit(e)} aria-label={t(editing ? 'noticeRevise' : 'noticeWrite')}>
        <h2 className="wide">{t(editing ? 'noticeRevise' : 'noticeWrite')}</h2>
        <label>
          {t('noticeKind')}
          <select name="kind" value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value as 'maintenance' })}>
            <option value="maintenance">{t('noticeMaintenance')}</option>
            <option value="incident">{t('noticeIncident')}</option>
          </select>
        </label>
        <label className="wide">
          {t('noticeTitleField')}
          <input name="title" required maxLength={200} value={form.title} onChange={(e) => setForm({ ...form, title: e.target.value })} />
        </label>
        <label className="wide">
          {t('noticeBody')}
          <textarea name="body" rows={4} value={form.body} onChange={(e) => setForm({ ...form, body: e.target.value })} />
        </label>
        <fieldset className="wide">
          <legend>{t('noticeServices')}</legend>
          {SERVICES.map((s) => (
            <label className="check" key={s}>
              <input type="checkbox" checked={form.services.includes(s)} onChange={(e) => setForm({ ...form, services: e.target.checked ? [...form.services, s] : form.services.filter((x) => x !== s) })} />
              {t(`service_${s}` as Key)}
            </label>
          ))}
        </fieldset>
        <label>
          {t('noticeStarts')}
          <input type="datetime-local" name="starts" required value={form.startsAt} onChange={(e) => setForm({ ...form, startsAt: e.target.value })} />
        </label>
        <label>
          {t('noticeEnds')}
          <input type="datetime-local" name="ends" value={form.endsAt} onChange={(e) => setForm({ ...form, endsAt: e.target.value })} />
        </label>
        <label className="check wide">
          <input type="checkbox" name="stops" checked={form.serviceStops} onChange={(e) => setForm({ ...form, serviceStops: e.target.checked })} />
          {t('noticeStops')}
        </label>
        <label className="check wide">
          <input type="checkbox" name="mailAdmins" checked={mailAdmins} onChange={(e) => setMailAdmins(e.target.checked)} />
          {t('noticeMailAdmins')}
        </label>
        <button type="submit">{t(editing ? 'noticeRevise' : 'noticePublish')}</button>
      </form>
      {items.map((n) => (
        <article key={n.id} className="card">
          <h3>
            #{n.id} <span className="tag">{t(n.kind === 'incident' ? 'noticeIncident' : 'noticeMaintenance')}</span> {n.draft && <span className="tag draft">{t('noticeDraft')}</span>} {n.autoService && <span className="tag">{t('noticeAuto')}</span>} {n.title} {n.closedAt && <span className="muted">({t('noticeIsClosed')})</span>}
          </h3>
          <p className="pre">{n.body}</p>
          {!n.closedAt && (
            <div className="row">
              {n.draft && (
                <button type="button" onClick={() => void publish(n.id)}>
                  {t('noticePublishDraft')}
                </button>
              )}
              <button type="button" onClick={() => (setEditing(n.id), setForm({ kind: n.kind as 'maintenance', title: n.title, body: n.body, services: n.services, startsAt: local(n.startsAt), endsAt: local(n.endsAt), serviceStops: n.serviceStops }))}>
                {t('noticeRevise')}
              </button>
              <button type="button" className="danger" onClick={() => void close(n.id)}>
                {t('noticeClose')}
              </button>
            </div>
          )}
        </article>
      ))}
    </section>
  );
}
