import type { AuthMode, SessionView } from '@vigil/contracts';
import { useEffect, useState } from 'preact/hooks';

import { ApiError, apiGet, apiPost, errorMessage } from '../app/api';
import { translate, type Lang, type TextKey } from '../app/i18n';

/** docs/interfaces.md: the demo users exist in demo mode only, all with this password. */
const DEMO_PASSWORD = 'vigil-demo';
interface DemoUser {
  readonly id: string;
  readonly zh: string;
  readonly en: string;
}
const DEMO_USERS: readonly DemoUser[] = [
  { id: 'zhang', zh: '张伟 · 操作员 · 华新化工', en: 'Zhang Wei · operator · Huaxin' },
  { id: 'li', zh: '李娜 · 操作员 · 华新化工', en: 'Li Na · operator · Huaxin' },
  { id: 'wang', zh: '王强 · 主管 · 化工园区', en: 'Wang Qiang · supervisor · park' },
  { id: 'chen', zh: '陈静 · 主管 · 示范市', en: 'Chen Jing · supervisor · city' },
  { id: 'admin', zh: '管理员 · 示范市', en: 'Administrator · city' },
];

export function LoginPage(props: {
  lang: Lang;
  notice: TextKey | undefined;
  onSwitchLang: () => void;
  onLogin: (session: SessionView) => void;
}) {
  const { lang } = props;
  const t = (key: TextKey, vars?: Record<string, string>) => translate(lang, key, vars);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [demo, setDemo] = useState<readonly DemoUser[] | undefined>();

  useEffect(() => {
    apiGet<AuthMode>('/api/v1/auth/mode').then(
      mode => setDemo(mode.demo === true ? DEMO_USERS : undefined),
      () => setDemo(undefined),
    );
  }, []);

  const login = async (name: string, secret: string) => {
    setBusy(true);
    setError(undefined);
    try {
      props.onLogin(
        await apiPost<SessionView>('/api/v1/auth/login', { username: name, password: secret }),
      );
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.status === 401
          ? t('loginFailed')
          : caught instanceof ApiError && (caught.status === 429 || caught.status === 503)
            ? t('loginThrottled')
            : t('loginUnavailable', { message: errorMessage(caught) }),
      );
      setBusy(false);
    }
  };

  return (
    <div class="login">
      <form
        class="login-card"
        id="login-form"
        onSubmit={event => {
          event.preventDefault();
          void login(username.trim(), password);
        }}
      >
        <div class="login-head">
          <h1>{t('title')}</h1>
          <button type="button" id="lang" class="ghost" onClick={props.onSwitchLang}>
            {t('switchLang')}
          </button>
        </div>
        <p class="muted">{t('loginSubtitle')}</p>
        {props.notice && (
          <p class="notice" role="status">
            {t(props.notice)}
          </p>
        )}
        <label>
          {t('username')}
          <input
            name="username"
            autocomplete="username"
            required
            value={username}
            onInput={event => setUsername(event.currentTarget.value)}
          />
        </label>
        <label>
          {t('password')}
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={event => setPassword(event.currentTarget.value)}
          />
        </label>
        {error && (
          <p class="error" role="alert" id="login-error">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {t('login')}
        </button>
        {demo && (
          <section class="demo" id="demo-users">
            <h2>{t('demoMode')}</h2>
            <p class="muted">{t('demoHint', { password: DEMO_PASSWORD })}</p>
            <div class="demo-users">
              {demo.map(user => (
                <button
                  key={user.id}
                  type="button"
                  class="demo-user"
                  data-user={user.id}
                  disabled={busy}
                  onClick={() => {
                    setUsername(user.id);
                    setPassword(DEMO_PASSWORD);
                    void login(user.id, DEMO_PASSWORD);
                  }}
                >
                  <strong>{user.id}</strong> {lang === 'en' ? user.en : user.zh}
                </button>
              ))}
            </div>
          </section>
        )}
      </form>
    </div>
  );
}
