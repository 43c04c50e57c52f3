import { useEffect, useMemo, useState } from 'preact/hooks';

import { summariseTabs } from '../app/alarms';
import type { AnnunciatorState } from '../app/annunciator';
import { useConsole } from '../app/context';
import { localName } from '../app/format';
import { label } from '../app/i18n';
import { FEATURE_PAGES, PAGES, routeHref, type Page } from '../app/route';
import type { UplinkFeatures } from '../app/uplink-view';
import { BellIcon } from './icons';

const MUTE_SECONDS = 60;

export function Header(props: {
  page: Page | 'login';
  features: UplinkFeatures;
  onSwitchLang: () => void;
  onLogout: () => void;
}) {
  const { t, lang, session, connected, alarms, orgName } = useConsole();
  const tabs = useMemo(() => summariseTabs(alarms.values(), Date.now()), [alarms]);
  const unacknowledged =
    tabs.process.unacknowledged + tabs.warning.unacknowledged + tabs.quality.unacknowledged;
  const worst = [tabs.process, tabs.warning, tabs.quality]
    .map(tab => tab.worstUnacknowledged)
    .filter((p): p is NonNullable<typeof p> => p !== undefined)
    .sort()[0];
  const { user } = session;
  return (
    <header class="bar">
      <h1>
        <a href={routeHref('alarms')}>{t('title')}</a>
      </h1>
      <nav class="nav" aria-label="pages">
        {PAGES.filter(page => {
          const side = FEATURE_PAGES[page];
          return side === undefined || props.features[side] || props.page === page;
        }).map(page => (
          <a
            key={page}
            href={routeHref(page)}
            class={`nav-link${props.page === page ? ' active' : ''}`}
            data-page={page}
            aria-current={props.page === page ? 'page' : undefined}
          >
            {t(`nav.${page}`)}
            {page === 'alarms' && unacknowledged > 0 && (
              <span class={`count count-p${worst ?? 4}`} id="unack-count" title={t('unackSummary')}>
                {unacknowledged}
              </span>
            )}
          </a>
        ))}
      </nav>
      <div class="bar-right">
        <AnnunciatorControl />
        <span id="connection" class={`pill ${connected ? 'pill-on' : 'pill-off'}`} role="status">
          {t(connected ? 'online' : 'offline')}
        </span>
        <span
          class="user"
          id="user"
          data-user={user.id}
          title={`${t('scope')}: ${orgName(user.scope)}`}
        >
          <strong>{localName(lang, user.name)}</strong>
          <span class="muted">
            {label(lang, 'role', user.role)} · {orgName(user.scope)}
          </span>
        </span>
        <button id="lang" type="button" class="ghost" onClick={props.onSwitchLang}>
          {t('switchLang')}
        </button>
        <button id="logout" type="button" class="ghost" onClick={props.onLogout}>
          {t('logout')}
        </button>
      </div>
    </header>
  );
}

function AnnunciatorControl() {
  const { t, annunciator } = useConsole();
  const [state, setState] = useState<AnnunciatorState>('off');
  const [, setTick] = useState(0);
  useEffect(() => annunciator.onChange(setState), [annunciator]);
  useEffect(() => {
    if (state !== 'muted') return undefined;
    const timer = setInterval(() => setTick(value => value + 1), 1000);
    return () => clearInterval(timer);
  }, [state]);

  const sounding = state === 'p1' || state === 'p2';
  const text =
    state === 'blocked'
      ? t('sound.blocked')
      : state === 'muted'
        ? t('sound.muted', { seconds: annunciator.mutedSecondsLeft() })
        : sounding
          ? `${t(`sound.${state}`)} · ${t('mute', { seconds: MUTE_SECONDS })}`
          : t('sound.off');
  return (
    <button
      type="button"
      id="annunciator"
      class={`annunciator annunciator-${state}`}
      data-state={state}
      title={t('muteHint')}
      disabled={state === 'off'}
      onClick={() => {
        if (state === 'blocked') annunciator.enable();
        else if (state === 'muted') annunciator.unmute();
        else if (sounding) annunciator.muteFor(MUTE_SECONDS);
      }}
    >
      <BellIcon off={state === 'muted'} />
      {text}
    </button>
  );
}
