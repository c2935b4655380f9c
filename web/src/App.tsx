import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, setCsrf, type Me } from './api';
import { I18n, initialLang, translator, type Key, type Lang } from './i18n';
import { Login } from './pages/Login';
import { Accounts } from './pages/Accounts';
import { Aliases } from './pages/Aliases';
import { Audit } from './pages/Audit';
import { Domains } from './pages/Domains';
import { Security } from './pages/Security';
import { NoticeBanner, Notices, type PublicNotice } from './pages/Notices';
import { MySettings, PasswordForm } from './pages/MySettings';
import { Queue } from './pages/Queue';

type Page = 'accounts' | 'aliases' | 'domains' | 'audit' | 'notices' | 'queue' | 'security' | 'me';

const PATHS: Record<Page, string> = { accounts: '/accounts', aliases: '/aliases', domains: '/domains', audit: '/audit', notices: '/notices', queue: '/queue', security: '/security', me: '/me' };

function pageOf(path: string, me: Me): Page {
  const found = (Object.keys(PATHS) as Page[]).find((p) => PATHS[p] === path);
  if ((found === 'notices' || found === 'queue') && me.kind !== 'operator') return me.admin ? 'accounts' : 'me';
  if (found && (me.admin || found === 'me') && !(found === 'me' && me.kind === 'operator')) return found;
  return me.admin ? 'accounts' : 'me';
}

export function App() {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const t = useMemo(() => translator(lang), [lang]);
  const setLang = useCallback((l: Lang) => {
    localStorage.setItem('hikyaku.lang', l);
    setLangState(l);
  }, []);
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [path, setPath] = useState(location.pathname);
  const [notices, setNotices] = useState<PublicNotice[]>([]);

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = t('appName');
  }, [lang, t]);

  // Notices for everybody before login; those for one's company after.
  useEffect(() => {
    api<{ items: PublicNotice[] }>('GET', me ? '/me/notices' : '/notices/current').then(
      (r) => setNotices(r.items),
      () => setNotices([]),
    );
  }, [me]);

  useEffect(() => {
    api<Me>('GET', '/session').then(
      (m) => {
        setCsrf(m.csrf);
        setMe(m);
      },
      () => setMe(null),
    );
    const onPop = () => setPath(location.pathname);
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const go = (p: Page) => {
    history.pushState(null, '', PATHS[p]);
    setPath(PATHS[p]);
  };

  const loggedIn = (m: Me) => {
    setCsrf(m.csrf);
    setMe(m);
    const p = pageOf(location.pathname, m);
    history.replaceState(null, '', PATHS[p]);
    setPath(PATHS[p]);
  };

  const logOut = async () => {
    await api('DELETE', '/session').catch(() => undefined);
    setMe(null);
    history.replaceState(null, '', '/login');
  };

  const langSwitch = (
    <button type="button" className="link" onClick={() => setLang(lang === 'ja' ? 'en' : 'ja')} lang={lang === 'ja' ? 'en' : 'ja'} aria-label={`${t('language')}: ${t('switchTo')}`}>
      {t('switchTo')}
    </button>
  );

  let body;
  if (me === undefined) body = <p className="muted">{t('loading')}</p>;
  else if (me === null) body = <Login onLogin={loggedIn} />;
  else if (me.mustChangePassword)
    body = (
      <section className="card narrow">
        <h1>{t('mustChangeTitle')}</h1>
        <p>{t('mustChangeHint')}</p>
        <PasswordForm onDone={() => setMe({ ...me, mustChangePassword: false })} />
      </section>
    );
  else {
    const page = pageOf(path, me);
    body = page === 'accounts' ? <Accounts me={me} /> : page === 'aliases' ? <Aliases me={me} /> : page === 'domains' ? <Domains me={me} /> : page === 'audit' ? <Audit /> : page === 'security' ? <Security /> : page === 'notices' ? <Notices /> : page === 'queue' ? <Queue /> : <MySettings />;
  }

  const current = me ? pageOf(path, me) : undefined;
  const nav: [Page, Key][] = me && !me.mustChangePassword
    ? [
        ...(me.admin ? ([['accounts', 'navAccounts'], ['aliases', 'navAliases'], ['domains', 'navDomains']] as [Page, Key][]) : []),
        ...(me.role === 'tenant-admin' || me.kind === 'operator' ? ([['audit', 'navAudit']] as [Page, Key][]) : []),
        ...(me.kind === 'operator' ? ([['queue', 'navQueue'], ['notices', 'navNotices']] as [Page, Key][]) : []),
        ...(me.admin ? ([['security', 'navSecurity']] as [Page, Key][]) : []),
        ...(me.kind === 'account' ? ([['me', 'navMe']] as [Page, Key][]) : []),
      ]
    : [];

  return (
    <I18n.Provider value={{ lang, t, setLang }}>
      <header className="top">
        <span className="brand">{t('appName')}</span>
        {nav.length > 0 && (
          <nav aria-label={t('appName')}>
            {nav.map(([p, k]) => (
              <a key={p} href={PATHS[p]} aria-current={current === p ? 'page' : undefined} onClick={(e) => (e.preventDefault(), go(p))}>
                {t(k)}
              </a>
            ))}
          </nav>
        )}
        <span className="spacer" />
        {me && (
          <span className="who">
            {me.address ?? me.login}
            {me.tenant ? ` · ${me.tenant}` : ''} · {t(`role_${me.role}` as Key)}
          </span>
        )}
        {langSwitch}
        {me && (
          <button type="button" className="link" onClick={() => void logOut()}>
            {t('logOut')}
          </button>
        )}
      </header>
      <main>
        <NoticeBanner items={notices} />
        {body}
        <p className="footer">
          <a href="/status">{t('statusLink')}</a>
        </p>
      </main>
    </I18n.Provider>
  );
}
