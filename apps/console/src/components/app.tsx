import type {
  Alarm,
  DeviceView,
  OrgNodeView,
  SessionView,
  SitesResponse,
  SiteView,
} from '@vigil/contracts';
import { useEffect, useMemo, useState } from 'preact/hooks';

import { AlarmSocket, type ResumeReport } from '../app/alarm-socket';
import { Annunciator } from '../app/annunciator';
import { apiGet, apiPost, configureApi, errorMessage, loadSession, saveSession } from '../app/api';
import { ConsoleContext, type AlarmActionName, type Console } from '../app/context';
import { describeAlarm, localName, type AlarmContext } from '../app/format';
import { label, translate, type Lang, type TextKey } from '../app/i18n';
import { parseRoute, type Route } from '../app/route';
import { notReadyList, servicesNotReady, uplinkBannerFields } from '../app/services-readiness';
import { staleness, type HeartbeatSeen } from '../app/staleness';
import { TelemetryHub } from '../app/telemetry-hub';
import { AlarmsPage } from '../pages/alarms-page';
import { HazardsPage } from '../pages/hazards-page';
import { InspectionsPage } from '../pages/inspections-page';
import { PermitsPage } from '../pages/permits-page';
import { DutyPage } from '../pages/duty-page';
import { HealthPage } from '../pages/health-page';
import { HistoryPage } from '../pages/history-page';
import { LoginPage } from '../pages/login-page';
import { PerformancePage } from '../pages/performance-page';
import { PlanPage } from '../pages/plan-page';
import { RiskPage } from '../pages/risk-page';
import { TrendsPage } from '../pages/trends-page';
import { EnterprisesPage, OrdersPage } from '../pages/uplink-pages';
import { uplinkFeatures, type UplinkFeatures } from '../app/uplink-view';
import { Header } from './header';

const LANG_KEY = 'vigil.lang';
const FEATURE_RETRY_MS = 10_000;

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

export function App() {
  const [lang, setLang] = useState<Lang>(() =>
    localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh-CN',
  );
  const [session, setSession] = useState<SessionView | undefined>(() => loadSession());
  const [loginNotice, setLoginNotice] = useState<TextKey | undefined>();
  const route = useRoute();

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = translate(lang, 'title');
    localStorage.setItem(LANG_KEY, lang);
  }, [lang]);

  const switchLang = () => setLang(current => (current === 'en' ? 'zh-CN' : 'en'));
  const logout = (notice?: TextKey) => {
    // Revoke the token on the server too (best effort: an expired session has nothing to revoke).
    if (session && !notice) void apiPost('/api/v1/auth/logout').catch(() => undefined);
    saveSession(undefined);
    setLoginNotice(notice);
    setSession(undefined);
  };
  configureApi({ token: session?.token, onUnauthorized: () => logout('sessionExpired') });

  if (!session)
    return (
      <LoginPage
        lang={lang}
        notice={loginNotice}
        onSwitchLang={switchLang}
        onLogin={next => {
          saveSession(next);
          setLoginNotice(undefined);
          setSession(next);
          if (route.page === 'login') location.hash = '#/alarms';
        }}
      />
    );
  return (
    <LoggedIn
      key={session.token}
      lang={lang}
      session={session}
      route={route}
      onSwitchLang={switchLang}
      onLogout={logout}
    />
  );
}

interface Registry {
  readonly organisation: readonly OrgNodeView[];
  readonly sites: readonly SiteView[];
  readonly devices: readonly DeviceView[];
}

interface Toast {
  readonly id: number;
  readonly message: string;
  readonly kind: 'info' | 'error';
}

function LoggedIn(props: {
  lang: Lang;
  session: SessionView;
  route: Route;
  onSwitchLang: () => void;
  onLogout: (notice?: TextKey) => void;
}) {
  const { lang, session, route, onLogout } = props;
  const [loaded, setLoaded] = useState<Registry>({ organisation: [], sites: [], devices: [] });
  const [registryError, setRegistryError] = useState<string | undefined>();
  const [alarms, setAlarms] = useState<ReadonlyMap<string, Alarm>>(new Map());
  const [connected, setConnected] = useState(false);
  const [historyKept, setHistoryKept] = useState(true);
  const [historyReason, setHistoryReason] = useState<string | undefined>(undefined);
  const [resumed, setResumed] = useState<ResumeReport | undefined>();
  const [heartbeat, setHeartbeat] = useState<HeartbeatSeen | undefined>();
  const [watchingSince] = useState(() => Date.now());
  // The console's own clock: a dead socket sends nothing, so staleness is re-judged every second.
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const [toasts, setToasts] = useState<Toast[]>([]);
  // Which side of the uplink this instance has: its controllers answer 404 where it has none.
  const [features, setFeatures] = useState<UplinkFeatures>({ upper: false, lower: false });
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = (path: string) =>
      apiGet(path).then(
        () => 200,
        (error: unknown) => (error as { status?: number }).status ?? 0,
      );
    const probe = () =>
      void Promise.all([
        status('/api/v1/uplink/enterprises'),
        status('/api/v1/uplink/orders'),
      ]).then(([upper, lower]) => {
        if (!live) return;
        const found = uplinkFeatures(upper, lower);
        setFeatures({ upper: found.upper, lower: found.lower });
        // No answer or a server error: ask again rather than hide a page for the whole session.
        if (!found.settled) timer = setTimeout(probe, FEATURE_RETRY_MS);
      });
    probe();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, []);

  const annunciator = useMemo(() => new Annunciator(), []);
  const { socket, telemetry } = useMemo(() => {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?token=${encodeURIComponent(session.token)}`;
    // The hub subscribes through the socket, and the socket hands telemetry to the hub.
    const hub = new TelemetryHub({
      subscribe: devices => alarmSocket.subscribe(devices),
      unsubscribe: devices => alarmSocket.unsubscribe(devices),
    });
    const alarmSocket = new AlarmSocket(url, {
      onAlarms: next => setAlarms(new Map(next)),
      onConnection: setConnected,
      onHistoryKept: (kept: boolean, reason?: string) => {
        setHistoryKept(kept);
        setHistoryReason(reason);
      },
      onResumed: setResumed,
      onTelemetry: update => hub.dispatch(update),
      onHeartbeat: (serverTime, pipeline, services, uplink) =>
        setHeartbeat({
          receivedAt: Date.now(),
          serverTime,
          pipeline,
          ...(services ? { services } : {}),
          ...(uplink ? { uplink } : {}),
        }),
      onUnauthorized: () => onLogout('sessionExpired'),
    });
    return { socket: alarmSocket, telemetry: hub };
  }, [session.token]);

  useEffect(() => {
    socket.connect();
    annunciator.enable();
    // Browsers start audio only after a user gesture: the first click anywhere enables it.
    const enable = () => annunciator.enable();
    document.addEventListener('pointerdown', enable);
    document.addEventListener('keydown', enable);
    return () => {
      socket.close();
      annunciator.dispose();
      document.removeEventListener('pointerdown', enable);
      document.removeEventListener('keydown', enable);
    };
  }, [socket, annunciator]);

  useEffect(() => annunciator.update([...alarms.values()]), [alarms, annunciator]);

  useEffect(() => {
    let live = true;
    Promise.all([
      apiGet<SitesResponse>('/api/v1/sites'),
      apiGet<DeviceView[]>('/api/v1/devices'),
    ]).then(
      ([{ organisation, sites }, devices]) => live && setLoaded({ organisation, sites, devices }),
      (error: unknown) => live && setRegistryError(errorMessage(error)),
    );
    return () => {
      live = false;
    };
  }, []);

  useEffect(() => {
    if (!resumed) return undefined;
    const timer = setTimeout(() => setResumed(undefined), 60_000);
    return () => clearTimeout(timer);
  }, [resumed]);

  // Registry names in the console's language (`罐区 Tank farm` → 罐区 / Tank farm).
  const named = useMemo((): Registry => {
    const local = (name: string) => localName(lang, name);
    return {
      organisation: loaded.organisation.map(node => ({ ...node, name: local(node.name) })),
      sites: loaded.sites.map(site => ({
        ...site,
        name: local(site.name),
        areas: site.areas.map(area => ({ ...area, name: local(area.name) })),
      })),
      devices: loaded.devices.map(device => ({ ...device, name: local(device.name) })),
    };
  }, [loaded, lang]);

  const value = useMemo((): Console => {
    const registry = named;
    const t = (key: TextKey, vars?: Readonly<Record<string, string | number>>) =>
      translate(lang, key, vars);
    const deviceMap = new Map(
      registry.devices.map(device => [`${device.siteId}/${device.deviceId}`, device]),
    );
    const device = (siteId: string, deviceId: string) => deviceMap.get(`${siteId}/${deviceId}`);
    const alarmContext: AlarmContext = {
      deviceName: (siteId, deviceId) => device(siteId, deviceId)?.name,
      gasOf: (siteId, deviceId) => {
        const gas = device(siteId, deviceId)?.attributes['gas'];
        return typeof gas === 'string' ? gas : undefined;
      },
    };
    const notify = (message: string, kind: 'info' | 'error' = 'info') => {
      const id = Date.now() + Math.random();
      setToasts(current => [...current.slice(-4), { id, message, kind }]);
      setTimeout(
        () => setToasts(current => current.filter(toast => toast.id !== id)),
        kind === 'error' ? 10_000 : 4000,
      );
    };
    return {
      lang,
      t,
      session,
      ...registry,
      device,
      alarms,
      connected,
      annunciator,
      telemetry,
      alarmContext,
      describe: alarm => describeAlarm(lang, alarm, alarmContext),
      orgName: id => registry.organisation.find(node => node.id === id)?.name ?? id,
      siteName: siteId => registry.sites.find(site => site.id === siteId)?.name ?? siteId,
      areaName: (siteId, areaId) =>
        areaId === undefined
          ? ''
          : (registry.sites.find(site => site.id === siteId)?.areas.find(area => area.id === areaId)
              ?.name ?? areaId),
      async act(alarm: Alarm, action: AlarmActionName, body: Record<string, unknown> = {}) {
        annunciator.enable();
        try {
          const updated = await apiPost<Alarm>(
            `/api/v1/alarms/${encodeURIComponent(alarm.id)}/${action}`,
            body,
          );
          if (updated && typeof updated === 'object' && 'id' in updated) socket.applyLocal(updated);
          notify(t('actionDone', { action: label(lang, 'action', action) }));
          return true;
        } catch (error) {
          const status = (error as { status?: number }).status ?? '—';
          notify(t('actionFailed', { status, message: errorMessage(error) }), 'error');
          return false;
        }
      },
      notify,
    };
  }, [lang, session, named, alarms, connected, annunciator, telemetry, socket]);

  const t = value.t;
  const stale = staleness(heartbeat, now, watchingSince);
  const notReady = servicesNotReady(heartbeat, now);
  return (
    <ConsoleContext.Provider value={value}>
      <Header
        page={route.page}
        features={features}
        onSwitchLang={props.onSwitchLang}
        onLogout={() => onLogout()}
      />
      {stale.stale && (
        <div
          class="banner banner-error banner-stale"
          role="alert"
          id="stale-banner"
          data-reason={stale.reason}
          data-hops={stale.hops.join(',')}
        >
          {stale.reason === 'no-heartbeat'
            ? t('staleNoHeartbeat', { seconds: stale.seconds })
            : stale.reason === 'stalled'
              ? t('stalePipeline', {
                  seconds: stale.seconds,
                  hops: stale.hops.map(hop => label(lang, 'hop', hop)).join(', '),
                })
              : stale.reason === 'canary-old'
                ? t('staleCanary', { seconds: stale.seconds })
                : t('canaryOff')}
        </div>
      )}
      {notReady.length > 0 && (
        <div
          class="banner banner-error"
          role="alert"
          id="services-banner"
          data-instances={notReady.map(entry => entry.instance).join(',')}
        >
          {t('servicesNotReady', {
            list: notReadyList(notReady),
            seconds: Math.max(...notReady.map(entry => entry.seconds)),
          })}
          <span class="banner-detail">
            {' '}
            (
            {notReady
              .flatMap(entry => entry.reasons.map(reason => `${entry.instance} ${reason}`))
              .join('; ')}
            )
          </span>
        </div>
      )}
      {heartbeat?.uplink && (
        <div
          class="banner banner-error"
          role="alert"
          id="uplink-banner"
          data-backlog={heartbeat.uplink.backlog}
        >
          {t('uplinkFailing', uplinkBannerFields(heartbeat.uplink))}
          {heartbeat.uplink.lastError && (
            <span class="banner-detail"> ({heartbeat.uplink.lastError})</span>
          )}
        </div>
      )}
      {!historyKept && (
        <div class="banner banner-error" role="alert" id="history-banner">
          {t('historyNotKept')}
          {historyReason && <span class="banner-detail"> ({historyReason})</span>}
        </div>
      )}
      {resumed && (
        <div
          class="banner banner-info"
          role="status"
          id="resume-notice"
          data-missed={resumed.missed}
          data-via={resumed.via}
        >
          <span>
            {resumed.via === 'snapshot'
              ? t('reconnectedSnapshot', { count: resumed.missed })
              : resumed.missed > 0
                ? t('reconnected', { count: resumed.missed })
                : t('reconnectedNone')}
          </span>
          <button type="button" class="link" onClick={() => setResumed(undefined)}>
            {t('dismiss')}
          </button>
        </div>
      )}
      {registryError && (
        <div class="banner banner-error" role="alert">
          {t('error', { message: registryError })}
        </div>
      )}
      <main class={`page page-${route.page}`}>
        {route.page === 'hazards' ? (
          <HazardsPage params={route.params} />
        ) : route.page === 'inspections' ? (
          <InspectionsPage params={route.params} />
        ) : route.page === 'permits' ? (
          <PermitsPage params={route.params} />
        ) : route.page === 'duty' ? (
          <DutyPage />
        ) : route.page === 'history' ? (
          <HistoryPage params={route.params} />
        ) : route.page === 'plan' ? (
          <PlanPage params={route.params} />
        ) : route.page === 'risk' ? (
          <RiskPage params={route.params} />
        ) : route.page === 'trends' ? (
          <TrendsPage params={route.params} />
        ) : route.page === 'health' ? (
          <HealthPage />
        ) : route.page === 'performance' ? (
          <PerformancePage />
        ) : route.page === 'enterprises' ? (
          <EnterprisesPage />
        ) : route.page === 'orders' ? (
          <OrdersPage />
        ) : (
          <AlarmsPage params={route.params} />
        )}
      </main>
      <div class="toasts" aria-live="polite">
        {toasts.map(toast => (
          <div
            key={toast.id}
            class={`toast toast-${toast.kind}`}
            role={toast.kind === 'error' ? 'alert' : 'status'}
          >
            {toast.message}
          </div>
        ))}
      </div>
    </ConsoleContext.Provider>
  );
}
