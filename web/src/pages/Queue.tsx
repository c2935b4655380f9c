import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, csrfToken, readProgress, type EntryState, type Problem, type QueueEntryView, type QueueSummary } from '../api';
import { Field, Messages, Table } from '../parts';
import { problemText, useI18n, type Key } from '../i18n';
import { QueueMessage } from './QueueMessage';

type Action = 'hold' | 'release' | 'retry' | 'delete';
type Filter = { sender: string; rcpt: string; tenant: string; olderMinutes: string; state: '' | EntryState };
const EMPTY: Filter = { sender: '', rcpt: '', tenant: '', olderMinutes: '', state: '' };
const STATES: EntryState[] = ['queued', 'active', 'deferred', 'held'];
const PAGE = 100;

/** The filter as the API takes it: only what was filled in. */
function filterBody(f: Filter): Record<string, string | number> {
  const body: Record<string, string | number> = {};
  for (const k of ['sender', 'rcpt', 'tenant'] as const) if (f[k].trim()) body[k] = f[k].trim();
  if (f.olderMinutes.trim()) body.olderMinutes = Number(f.olderMinutes);
  if (f.state) body.state = f.state;
  return body;
}

/** The operators' queue view: its shape, why mail waits, entries by filter, and hold, release, retry and delete. */
export function Queue() {
  const { t, lang } = useI18n();
  const [by, setBy] = useState<'tenant' | 'recipient' | 'sender'>('tenant');
  const [summary, setSummary] = useState<QueueSummary>();
  const [draft, setDraft] = useState<Filter>(EMPTY);
  const [filter, setFilter] = useState<Filter>(EMPTY);
  const [entries, setEntries] = useState<QueueEntryView[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [scope, setScope] = useState<'selected' | 'matching'>('selected');
  const [shown, setShown] = useState<number>();
  const [progress, setProgress] = useState<{ done: number; total: number }>();
  const [deleting, setDeleting] = useState<{ count: number }>();
  const [dsn, setDsn] = useState(true);
  const [notice, setNotice] = useState('');
  const [error, setError] = useState('');
  const time = (iso: string | null) => (iso ? new Date(iso).toLocaleString(lang === 'ja' ? 'ja-JP' : 'en-GB') : '–');
  const fail = (err: unknown) => setError(problemText(t, lang, err));

  const query = (f: Filter, after: number) => {
    const q = new URLSearchParams({ ...Object.fromEntries(Object.entries(filterBody(f)).map(([k, v]) => [k, String(v)])), limit: String(PAGE), after: String(after) });
    return api<{ items: QueueEntryView[]; next: number | null }>('GET', `/queue/entries?${q}`);
  };
  const reload = useCallback(() => {
    api<QueueSummary>('GET', `/queue/summary?by=${by}`).then(setSummary, fail);
    query(filter, 0).then((r) => (setEntries(r.items), setNext(r.next), setSelected(new Set())), fail);
  }, [by, filter, t, lang]);
  useEffect(reload, [reload]);

  const search = (e: FormEvent) => {
    e.preventDefault();
    setError('');
    setFilter(draft);
  };
  const more = () => next !== null && query(filter, next).then((r) => (setEntries([...entries, ...r.items]), setNext(r.next)), fail);

  const target = () => (scope === 'selected' ? { ids: [...selected] } : Object.keys(filterBody(filter)).length ? filterBody(filter) : { all: true });
  const post = (action: Action, extra: object) =>
    fetch(`/api/v1/queue/${action}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken() }, body: JSON.stringify({ ...target(), ...extra }), credentials: 'same-origin' });

  const run = async (action: Action, extra: object = {}) => {
    setError('');
    setNotice('');
    setDeleting(undefined);
    try {
      await readProgress<{ done: number; total: number; result?: { matched: number; changed: number }; problem?: Problem }>(await post(action, extra), (msg) => {
        const skipped = msg.result && msg.result.matched - msg.result.changed;
        if (msg.result) setNotice(t(`queueDone_${action}` as Key, { n: msg.result.changed }) + (skipped ? t('queueSkipped', { n: skipped }) : ''));
        else setProgress({ done: msg.done, total: msg.total });
      });
    } catch (err) {
      fail(err);
    } finally {
      setProgress(undefined);
      reload();
    }
  };

  // A delete is confirmed first, with the number of entries it takes (asked of the server when it is "all matching").
  const askDelete = async () => {
    setError('');
    if (scope === 'selected') return setDeleting({ count: selected.size });
    const res = await post('delete', {});
    const problem = (await res.json()) as Problem & { matched?: number };
    if (problem.matched === undefined) return fail({ problem });
    setDeleting({ count: problem.matched });
  };

  const toggle = (id: number) => {
    const s = new Set(selected);
    if (s.has(id)) s.delete(id);
    else s.add(id);
    setSelected(s);
  };
  const none = scope === 'selected' && selected.size === 0;
  const busy = progress !== undefined;

  return (
    <section>
      <h1>{t('queueTitle')}</h1>
      {summary && (
        <p className="counts">
          {STATES.map((s) => `${t(`queueState_${s}` as Key)} ${summary.byState[s]}`).join(' · ')} · {t('queueOldest', { minutes: Math.round(summary.oldestSeconds / 60) })}
        </p>
      )}
      <Messages notice={notice} error={error} />
      <div className="card scroll">
        <h2>{t('queueShape')}</h2>
        <label className="inline">
          {t('queueShapeBy')}
          <select name="by" value={by} onChange={(e) => setBy(e.target.value as typeof by)}>
            <option value="tenant">{t('queueByTenant')}</option>
            <option value="recipient">{t('queueByRecipient')}</option>
            <option value="sender">{t('queueBySender')}</option>
          </select>
        </label>
        {summary && summary.shape.length === 0 && <p className="muted">{t('queueEmpty')}</p>}
        {summary && summary.shape.length > 0 && (
          <Table caption={t('queueShape')} headers={[t(by === 'tenant' ? 'queueByTenant' : by === 'recipient' ? 'queueByRecipient' : 'queueBySender'), t('queueTotal'), ...summary.bucketsMinutes.map((m) => `<${m}`), `${summary.bucketsMinutes.at(-1)}+`]}>
            {summary.shape.map((r) => (
              <tr key={r.key}>
                <th scope="row">{r.key}</th>
                <td>{r.total}</td>
                {r.counts.map((n, i) => (
                  <td key={i} className={n ? '' : 'muted'}>{n}</td>
                ))}
              </tr>
            ))}
          </Table>
        )}
        {summary && summary.shape.length > 0 && <p className="muted">{t('queueShapeHint')}</p>}
      </div>
      <div className="card">
        <h2>{t('queueWhy')}</h2>
        {summary && summary.reasons.length === 0 && <p className="muted">{t('queueNoDeferred')}</p>}
        {summary && summary.reasons.length > 0 && (
          <Table caption={t('queueWhy')} headers={[t('queueCount'), t('queueOldestArrival'), t('queueLastError')]}>
            {summary.reasons.map((r, i) => (
              <tr key={i}>
                <td>{r.count}</td>
                <td>{time(r.oldestAt)}</td>
                <td className="reason">{r.error ?? t('queueNoError')}</td>
              </tr>
            ))}
          </Table>
        )}
      </div>
      <div className="card">
        <h2>{t('queueEntries')}</h2>
        <form className="filters" onSubmit={search} aria-label={t('queueFilter')}>
          <Field label={t('queueSender')} name="sender" value={draft.sender} onChange={(v) => setDraft({ ...draft, sender: v })} />
          <Field label={t('queueRcpt')} name="rcpt" value={draft.rcpt} onChange={(v) => setDraft({ ...draft, rcpt: v })} />
          <Field label={t('queueTenant')} name="tenant" value={draft.tenant} onChange={(v) => setDraft({ ...draft, tenant: v })} />
          <Field label={t('queueOlder')} name="olderMinutes" type="number" min="0" value={draft.olderMinutes} onChange={(v) => setDraft({ ...draft, olderMinutes: v })} />
          <label>
            {t('queueState')}
            <select name="state" value={draft.state} onChange={(e) => setDraft({ ...draft, state: e.target.value as Filter['state'] })}>
              <option value="">{t('queueAnyState')}</option>
              {STATES.map((s) => (
                <option key={s} value={s}>{t(`queueState_${s}` as Key)}</option>
              ))}
            </select>
          </label>
          <button type="submit">{t('search')}</button>
        </form>
        <fieldset className="actions" disabled={busy}>
          <legend className="sr-only">{t('actions')}</legend>
          <label className="check">
            <input type="radio" name="scope" checked={scope === 'selected'} onChange={() => setScope('selected')} /> {t('queueScopeSelected', { n: selected.size })}
          </label>
          <label className="check">
            <input type="radio" name="scope" checked={scope === 'matching'} onChange={() => setScope('matching')} /> {t('queueScopeMatching')}
          </label>
          <button type="button" disabled={none} onClick={() => void run('hold')}>{t('queueHold')}</button>
          <button type="button" disabled={none} onClick={() => void run('release')}>{t('queueRelease')}</button>
          <button type="button" disabled={none} onClick={() => void run('retry')}>{t('queueRetry')}</button>
          <button type="button" className="danger" disabled={none} onClick={() => void askDelete().catch(fail)}>{t('queueDelete')}</button>
        </fieldset>
        {progress && <progress max={progress.total || 1} value={progress.done} aria-label={t('queueProgress')} />}
        {entries.length === 0 ? (
          <p className="muted">{t('queueNoEntries')}</p>
        ) : (
          <Table caption={t('queueEntries')} headers={['', t('queueId'), t('queueReceived'), t('queueSender'), t('queueRcpt'), t('queueRoute'), t('queueState'), t('queueAttempts'), t('queueNext'), t('queueLastError')]}>
            {entries.map((e) => (
              <tr key={e.id}>
                <td>
                  <input type="checkbox" aria-label={t('queueSelect', { id: e.id })} checked={selected.has(e.id)} disabled={e.state === 'active'} onChange={() => toggle(e.id)} />
                </td>
                <td>
                  <button type="button" className="link" onClick={() => setShown(e.id)}>{e.id}</button>
                </td>
                <td>{time(e.receivedAt)}</td>
                <td>{e.sender}</td>
                <td>{e.rcpt}</td>
                <td>{t(`queueRoute_${e.route}` as Key)}</td>
                <td>{t(`queueState_${e.state}` as Key)}</td>
                <td>{e.attempts}</td>
                <td>{e.state === 'held' ? '–' : time(e.nextAttemptAt)}</td>
                <td className="reason">{e.lastError ?? ''}</td>
              </tr>
            ))}
          </Table>
        )}
        {next !== null && (
          <div className="pager">
            <button type="button" onClick={() => void more()}>{t('queueMore')}</button>
          </div>
        )}
      </div>
      {deleting && (
        <div className="overlay" onKeyDown={(e) => e.key === 'Escape' && setDeleting(undefined)}>
          <section className="card dialog" role="dialog" aria-modal="true" aria-labelledby="delete-title">
            <h2 id="delete-title">{t('queueDeleteTitle', { n: deleting.count })}</h2>
            <fieldset className="column">
              <legend className="sr-only">{t('queueDeleteTitle', { n: deleting.count })}</legend>
              <label className="check">
                <input type="radio" name="dsn" checked={dsn} onChange={() => setDsn(true)} /> {t('queueDeleteDsn')}
              </label>
              <label className="check">
                <input type="radio" name="dsn" checked={!dsn} onChange={() => setDsn(false)} /> {t('queueDeleteSilently')}
              </label>
            </fieldset>
            <p className="muted">{t('queueDeleteHint')}</p>
            <div className="row end">
              <button type="button" className="link" onClick={() => setDeleting(undefined)}>{t('cancel')}</button>
              <button type="button" className="danger" onClick={() => void run('delete', { dsn, confirm: true })}>{t('queueDeleteConfirm', { n: deleting.count })}</button>
            </div>
          </section>
        </div>
      )}
      {shown !== undefined && <QueueMessage id={shown} onClose={() => setShown(undefined)} />}
    </section>
  );
}
