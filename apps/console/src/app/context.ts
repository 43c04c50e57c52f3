import type { Alarm, DeviceView, OrgNodeView, SessionView, SiteView } from '@vigil/contracts';
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';

import type { TelemetryUpdate } from './alarm-socket';
import type { Annunciator } from './annunciator';
import type { AlarmContext, DescribableAlarm } from './format';
import type { Lang, Translate } from './i18n';
import type { TelemetryHub } from './telemetry-hub';

export type AlarmActionName =
  'acknowledge' | 'shelve' | 'unshelve' | 'comment' | 'dispose' | 'reset';

/** Everything the pages share once an operator is logged in. */
export interface Console {
  readonly lang: Lang;
  readonly t: Translate;
  readonly session: SessionView;
  readonly organisation: readonly OrgNodeView[];
  readonly sites: readonly SiteView[];
  readonly devices: readonly DeviceView[];
  readonly device: (siteId: string, deviceId: string) => DeviceView | undefined;
  readonly alarms: ReadonlyMap<string, Alarm>;
  readonly connected: boolean;
  readonly annunciator: Annunciator;
  readonly telemetry: TelemetryHub;
  readonly alarmContext: AlarmContext;
  describe(alarm: DescribableAlarm): string;
  orgName(id: string): string;
  siteName(siteId: string): string;
  areaName(siteId: string, areaId: string | undefined): string;
  /** Runs an alarm action over REST; resolves true when the server accepted it. */
  act(alarm: Alarm, action: AlarmActionName, body?: Record<string, unknown>): Promise<boolean>;
  notify(message: string, kind?: 'info' | 'error'): void;
}

export const ConsoleContext = createContext<Console | undefined>(undefined);

export function useConsole(): Console {
  const value = useContext(ConsoleContext);
  if (!value) throw new Error('useConsole outside the logged-in console');
  return value;
}

/** Re-renders every `intervalMs` (relative times, stale flags). */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/** Live telemetry of `devices` while the component is mounted. */
export function useTelemetry(
  devices: readonly string[],
  listener: (update: TelemetryUpdate) => void,
): void {
  const { telemetry } = useConsole();
  const latest = useRef(listener);
  latest.current = listener;
  const key = [...devices].sort().join(',');
  useEffect(() => {
    if (devices.length === 0) return undefined;
    return telemetry.watch(devices, update => latest.current(update));
  }, [telemetry, key]);
}

/** Loads data with `load` when the dependencies change, and again every `refreshMs` if given. */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: readonly unknown[],
  refreshMs?: number,
): { data: T | undefined; error: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => {
    let live = true;
    setState(previous => ({ ...previous, loading: true }));
    latest.current().then(
      data => live && setState({ data, error: undefined, loading: false }),
      (error: unknown) =>
        live && setState(previous => ({ data: previous.data, error, loading: false })),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  useEffect(() => {
    if (!refreshMs) return undefined;
    const timer = setInterval(() => setTick(value => value + 1), refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs]);
  return { ...state, reload: () => setTick(value => value + 1) };
}
