import { useState, type FormEvent } from 'react';
import { api, type Forward } from '../api';
import { problemText, useI18n } from '../i18n';

/** Forwarding of one account: an administrator's for any user, or the user's own (`path`). */
export function ForwardForm({ path, initial, onMessage, onError }: { path: string; initial: Forward | null; onMessage(m: string): void; onError(m: string): void }) {
  const { t, lang } = useI18n();
  const [on, setOn] = useState(initial !== null && initial.enabled && initial.targets.length > 0);
  const [targets, setTargets] = useState((initial?.targets ?? []).join('\n'));
  const [keepCopy, setKeepCopy] = useState(initial?.keepCopy ?? true);
  const [subject, setSubject] = useState(initial?.conditions?.subjectContains ?? '');
  const [from, setFrom] = useState(initial?.conditions?.fromContains ?? '');

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    onError('');
    try {
      const list = targets.split(/[\s,]+/).filter(Boolean);
      if (on) {
        await api('PUT', path, { targets: list, keepCopy, enabled: true, conditions: { subjectContains: subject, fromContains: from } });
        onMessage(t('saved'));
      } else {
        // Off keeps the targets for the next time it is switched on.
        await (list.length ? api('PUT', path, { targets: list, keepCopy, enabled: false, conditions: { subjectContains: subject, fromContains: from } }) : api('DELETE', path));
        onMessage(t('forwardRemoved'));
      }
    } catch (err) {
      onError(problemText(t, lang, err));
    }
  };

  return (
    <form className="grid" onSubmit={(e) => void submit(e)} aria-label={t('forwarding')}>
      <fieldset className="wide">
        <legend className="sr-only">{t('forwarding')}</legend>
        <label className="check">
          <input type="radio" name="forward-on" checked={!on} onChange={() => setOn(false)} />
          {t('forwardOff')}
        </label>
        <label className="check">
          <input type="radio" name="forward-on" checked={on} onChange={() => setOn(true)} />
          {t('forwardOn')}
        </label>
      </fieldset>
      <label className="wide">
        {t('forwardTargets')}
        <textarea name="targets" rows={3} value={targets} onChange={(e) => setTargets(e.target.value)} />
      </label>
      <label>
        {t('forwardIfSubject')}
        <input name="if-subject" maxLength={200} value={subject} onChange={(e) => setSubject(e.target.value)} />
      </label>
      <label>
        {t('forwardIfFrom')}
        <input name="if-from" maxLength={200} value={from} onChange={(e) => setFrom(e.target.value)} />
      </label>
      <label className="check wide">
        <input type="checkbox" name="keep-copy" checked={keepCopy} disabled={!on} onChange={(e) => setKeepCopy(e.target.checked)} />
        {t('keepCopy')}
      </label>
      <button type="submit">{t('save')}</button>
    </form>
  );
}
