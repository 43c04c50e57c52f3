import { metricDefinition, type Alarm, type DeviceClass } from '@vigil/contracts';

import { label, translate, type Lang } from './i18n';

/** Up to 4 significant digits, as the rules format numbers (`62`, `7.054`, `4896`). */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 1000 ? String(Math.round(value)) : String(Number(value.toPrecision(4)));
}

export function unitOf(deviceClass: DeviceClass | undefined, metric: string | undefined): string {
  if (!deviceClass || !metric) return '';
  return metricDefinition(deviceClass, metric)?.unit ?? '';
}

export function formatQuantity(value: number | boolean | undefined, unit: string): string {
  if (value === undefined) return '';
  if (typeof value === 'boolean') return value ? '✓' : '✗';
  return unit ? `${formatNumber(value)} ${unit}` : formatNumber(value);
}

/** Metric label: `lel` → 可燃气体; a channel `temp_c_2` → 温度 2; a toxic detector names its gas. */
export function metricLabel(lang: Lang, metric: string, gas?: string): string {
  if (metric === 'ppm' && gas) return gas;
  const channel = /^(.*)_(\d+)$/.exec(metric);
  if (channel && channel[1] && label(lang, 'metric', channel[1]) !== channel[1])
    return `${label(lang, 'metric', channel[1])} ${channel[2]}`;
  return label(lang, 'metric', metric);
}

export interface AlarmContext {
  /** Device or tag display name. */
  deviceName(siteId: string, deviceId: string): string | undefined;
  /** The device's gas attribute, for toxic detectors. */
  gasOf(siteId: string, deviceId: string): string | undefined;
}

/**
 * Registry names are often bilingual by convention (`罐区 Tank farm`, `张伟 Zhang Wei`): show the
 * part in the console's language. A name without a clear English part (`甲醇储罐 T-101`) is kept.
 */
export function localName(lang: Lang, name: string): string {
  const match = /^(.*\p{Script=Han}.*?)\s+([A-Z][a-z].*)$/u.exec(name);
  if (!match) return name;
  return lang === 'en' ? (match[2] as string) : (match[1] as string);
}

/** The rule's name in the language: `gas-l2` on a combustible detector → 可燃气体二级报警. */
export function ruleName(
  lang: Lang,
  alarm: Pick<Alarm, 'ruleId' | 'deviceClass' | 'metric'>,
  gas?: string,
): string {
  let name = label(lang, 'rule', alarm.ruleId);
  // Per-metric rule families: `range-level`, `stuck-level` → 超量程 · 液位.
  const family = /^(range|stuck)-(.+)$/.exec(alarm.ruleId);
  if (name === alarm.ruleId && family) {
    const metric = alarm.metric ?? family[2] ?? '';
    name = `${label(lang, 'rule', family[1] as string)} · ${metricLabel(lang, metric, gas)}`;
  }
  if ((alarm.ruleId === 'gas-l1' || alarm.ruleId === 'gas-l2') && alarm.metric) {
    const subject = metricLabel(lang, alarm.metric, gas);
    return lang === 'en' ? `${subject} ${name.toLowerCase()}` : `${subject}${name}`;
  }
  return name;
}

/**
 * The alarm's text in the console's language, from its structured fields (rule, metric, value,
 * threshold, members) rather than the server's English `message`, which stays as the fallback.
 */
export type DescribableAlarm = Pick<
  Alarm,
  | 'siteId'
  | 'deviceId'
  | 'ruleId'
  | 'deviceClass'
  | 'metric'
  | 'value'
  | 'threshold'
  | 'members'
  | 'message'
> & { readonly level?: string };

export function describeAlarm(lang: Lang, alarm: DescribableAlarm, context: AlarmContext): string {
  // The pipeline canary's alarm: which hop of the alarm path stopped (docs/interfaces.md).
  if (alarm.ruleId === 'pipeline-stalled')
    return translate(lang, 'pipelineStalledAlarm', {
      hop: label(lang, 'hop', alarm.level ?? '—'),
      seconds: typeof alarm.value === 'number' ? formatNumber(alarm.value) : '—',
      limit: alarm.threshold ?? '—',
    });
  // A control room nobody took over (docs/interfaces.md §Duty): the level is the room.
  if (alarm.ruleId === 'duty-unmanned')
    return translate(lang, 'dutyUnmannedAlarm', {
      room: alarm.level ?? '—',
      minutes: typeof alarm.value === 'number' ? formatNumber(alarm.value) : '—',
    });
  const gas = context.gasOf(alarm.siteId, alarm.deviceId);
  const rule = ruleName(lang, alarm, gas);
  const known = rule !== alarm.ruleId;
  const unit = unitOf(alarm.deviceClass, alarm.metric);
  let detail = '';
  if (alarm.members && alarm.members.length > 0) {
    const names = alarm.members.map(id => context.deviceName(alarm.siteId, id) ?? id);
    detail = translate(lang, 'describeMembers', {
      count: names.length,
      names: names.join(lang === 'en' ? ', ' : '、'),
    });
  } else if (alarm.metric && typeof alarm.value === 'number') {
    const metric = metricLabel(lang, alarm.metric, gas);
    detail =
      alarm.threshold === undefined
        ? translate(lang, 'describeValueOnly', { metric, value: formatQuantity(alarm.value, unit) })
        : translate(lang, 'describeValue', {
            metric,
            value: formatQuantity(alarm.value, unit),
            threshold: formatQuantity(alarm.threshold, unit),
          });
  }
  if (!known) return alarm.message || alarm.ruleId;
  if (alarm.ruleId === 'fire' && alarm.level === 'confirmed') {
    return translate(lang, 'fireConfirmed');
  }
  return detail ? `${rule}${lang === 'en' ? ': ' : '：'}${detail}` : rule;
}

/**
 * Where inside a device an alarm is (fire-panel loop/point/zone, channel), in the console's
 * language: `回路 1 点 23 · 防区 1 · 罐区感烟 1-23` / `Loop 1 point 23 · zone 1 · …`. Empty when
 * the alarm has no location.
 */
export function formatLocation(lang: Lang, location: Alarm['location']): string {
  if (!location) return '';
  const parts: string[] = [];
  if (location.point !== undefined) {
    parts.push(
      location.loop === undefined
        ? translate(lang, 'locationPoint', { point: location.point })
        : translate(lang, 'locationLoopPoint', { loop: location.loop, point: location.point }),
    );
  }
  if (location.zone !== undefined)
    parts.push(translate(lang, 'locationZone', { zone: location.zone }));
  if (location.channel !== undefined) {
    parts.push(translate(lang, 'locationChannel', { channel: location.channel }));
  }
  if (location.name !== undefined) parts.push(localName(lang, location.name));
  return parts.join(' · ');
}

export function formatTime(lang: Lang, at: number | undefined): string {
  if (at === undefined) return '';
  return new Date(at).toLocaleString(lang, { hour12: false });
}

export function formatClock(lang: Lang, at: number): string {
  return new Date(at).toLocaleTimeString(lang, { hour12: false });
}

export function formatAgo(lang: Lang, ms: number | undefined): string {
  if (ms === undefined) return translate(lang, 'never');
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return translate(lang, 'secondsAgo', { seconds });
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return translate(lang, 'minutesAgo', { minutes });
  return translate(lang, 'hoursAgo', { hours: Math.round(minutes / 60) });
}

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${Math.round(ms / 360_000) / 10} h`;
  return `${Math.round(ms / 8_640_000) / 10} d`;
}
