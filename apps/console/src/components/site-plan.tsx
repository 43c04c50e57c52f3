import type {
  Alarm,
  DeviceView,
  PointM,
  RiskLevel,
  RiskNode,
  SiteView,
  TagPosition,
} from '@vigil/contracts';

import { crowdCircles, deviceLook, locatedAlarms, type DeviceLook } from '../app/plan';

export const RISK_FILL: Readonly<Record<RiskLevel, string>> = {
  red: '#e5484d',
  orange: '#f5891f',
  yellow: '#f2c94c',
  blue: '#3b82f6',
};
const PRIORITY_FILL: Readonly<Record<number, string>> = {
  1: '#e5484d',
  2: '#f5891f',
  3: '#f2c94c',
  4: '#3b82f6',
};

/** Rough width of a label in the drawing's units: CJK characters are square, Latin about half. */
function textWidth(text: string, font: number): number {
  let width = 0;
  for (const char of text) width += /[\u2e80-\uffff]/.test(char) ? font : font * 0.58;
  return width;
}

function lookColour(look: DeviceLook): string {
  if (look.state === 'alarm') return PRIORITY_FILL[look.priority ?? 4] ?? '#e5484d';
  if (look.state === 'fault') return '#a371f7';
  if (look.state === 'offline') return '#6b7280';
  return '#3fb950';
}

/**
 * The site drawn from the registry: areas (coloured by dynamic risk when known, else by their
 * inherent colour), restricted zones hatched, warning zones dashed, devices as symbols coloured by
 * state, people as dots, crowds circled. Coordinates are the site frame in metres (y to the north).
 */
export function SitePlan(props: {
  site: SiteView;
  devices: readonly DeviceView[];
  alarmsByDevice?: ReadonlyMap<string, readonly Alarm[]>;
  alarms?: Iterable<Alarm>;
  positions?: ReadonlyMap<string, TagPosition>;
  risk?: ReadonlyMap<string, RiskNode>;
  selectedArea?: string | undefined;
  selectedDevice?: string | undefined;
  headCount?: ReadonlyMap<string, number>;
  onArea?: (areaId: string) => void;
  onDevice?: (deviceId: string) => void;
  headCountLabel?: (count: number, max: number) => string;
}) {
  const { site } = props;
  const { width, height } = site.frame;
  const margin = Math.max(width, height) * 0.02;
  const font = Math.max(width, height) / 70;
  const sy = (y: number) => height - y;
  const points = (polygon: readonly PointM[]) => polygon.map(([x, y]) => `${x},${sy(y)}`).join(' ');
  // `alarms` may be an iterator (a Map's values): read it once, for the crowds and the points.
  const alarmList = props.alarms ? [...props.alarms] : undefined;
  const crowds =
    alarmList && props.positions ? crowdCircles(alarmList, props.positions, site.id) : [];
  const symbol = Math.max(width, height) / 110;
  const located = alarmList ? locatedAlarms(alarmList, site.id) : [];

  return (
    <svg
      class="site-plan"
      viewBox={`${-margin} ${-margin} ${width + 2 * margin} ${height + 2 * margin}`}
      preserveAspectRatio="xMidYMid meet"
      role="img"
      aria-label={site.name}
      data-site={site.id}
    >
      <defs>
        <pattern
          id="hatch"
          patternUnits="userSpaceOnUse"
          width={font * 0.9}
          height={font * 0.9}
          patternTransform="rotate(45)"
        >
          <line
            x1="0"
            y1="0"
            x2="0"
            y2={font * 0.9}
            stroke="#e5484d"
            stroke-width={font * 0.25}
            stroke-opacity="0.7"
          />
        </pattern>
      </defs>
      <rect x="0" y="0" width={width} height={height} class="frame" />
      {site.areas.map(area => {
        const node = props.risk?.get(area.id);
        const colour = RISK_FILL[node?.level ?? area.risk];
        const xs = area.polygon.map(point => point[0]);
        const ys = area.polygon.map(point => point[1]);
        const left = Math.min(...xs);
        const top = sy(Math.max(...ys));
        const nameWidth = textWidth(area.name, font);
        // The name goes in the area's top-left corner, away from the devices; above a small area.
        const inside = nameWidth + font < Math.max(...xs) - left;
        const labelY = inside ? top + font * 1.3 : top - font * 0.45;
        const raised = node !== undefined && node.level !== node.inherent;
        const count = props.headCount?.get(area.id);
        return (
          <g
            key={area.id}
            class={`area area-${area.kind}${props.selectedArea === area.id ? ' selected' : ''}${raised ? ' raised' : ''}`}
            data-area={area.id}
            data-risk={node?.level ?? area.risk}
            onClick={() => props.onArea?.(area.id)}
          >
            <title>{area.name}</title>
            <polygon
              points={points(area.polygon)}
              fill={colour}
              fill-opacity={area.kind === 'restricted' ? 0.15 : 0.22}
              stroke={colour}
              stroke-width={font * 0.25}
              stroke-dasharray={area.kind === 'warning' ? `${font} ${font * 0.6}` : undefined}
            />
            {area.kind === 'restricted' && (
              <polygon points={points(area.polygon)} fill="url(#hatch)" stroke="none" />
            )}
            <text x={left + font * 0.5} y={labelY} font-size={font} class="area-name">
              {area.name}
            </text>
            {area.maxPeople !== undefined &&
              count !== undefined &&
              props.headCountLabel &&
              inside && (
                <text
                  x={left + font * 0.5}
                  y={labelY + font * 1.2}
                  font-size={font * 0.8}
                  class={`head-count${count > area.maxPeople ? ' over' : ''}`}
                >
                  {props.headCountLabel(count, area.maxPeople)}
                </text>
              )}
          </g>
        );
      })}
      {props.devices.map(device => {
        if (!device.position || device.deviceClass === 'tag') return null;
        const [x, y] = device.position;
        const look = deviceLook(props.alarmsByDevice?.get(device.deviceId) ?? []);
        const fill = lookColour(look);
        const selected = props.selectedDevice === device.deviceId;
        const common = {
          class: `device device-${device.deviceClass} state-${look.state}${look.unacknowledged ? ' blink' : ''}${selected ? ' selected' : ''}`,
          fill,
          stroke: selected ? '#ffffff' : '#0d1117',
          'stroke-width': symbol * 0.35,
          'stroke-dasharray':
            look.state === 'offline' ? `${symbol * 0.6} ${symbol * 0.4}` : undefined,
        };
        const s = symbol;
        const cy = sy(y);
        return (
          <g
            key={device.deviceId}
            data-device={device.deviceId}
            data-state={look.state}
            onClick={event => {
              event.stopPropagation();
              props.onDevice?.(device.deviceId);
            }}
          >
            <title>{`${device.name} (${device.deviceId})`}</title>
            {device.deviceClass === 'mhs-tank' ? (
              <rect
                x={x - s * 1.4}
                y={cy - s * 1.4}
                width={s * 2.8}
                height={s * 2.8}
                rx={s * 0.6}
                {...common}
              />
            ) : device.deviceClass === 'electrical-fire' ? (
              <polygon
                points={`${x},${cy - s * 1.4} ${x + s * 1.4},${cy} ${x},${cy + s * 1.4} ${x - s * 1.4},${cy}`}
                {...common}
              />
            ) : device.deviceClass === 'fire-panel' ? (
              <polygon
                points={`${x},${cy - s * 1.5} ${x + s * 1.4},${cy + s} ${x - s * 1.4},${cy + s}`}
                {...common}
              />
            ) : device.deviceClass === 'call-point' ? (
              <rect x={x - s} y={cy - s} width={s * 2} height={s * 2} {...common} />
            ) : (
              <circle cx={x} cy={cy} r={s * 1.2} {...common} />
            )}
          </g>
        );
      })}
      {crowds.map(crowd => (
        <circle
          key={crowd.alarmId}
          class={`crowd${crowd.unacknowledged ? ' blink' : ''}`}
          data-crowd={crowd.alarmId}
          cx={crowd.centre[0]}
          cy={sy(crowd.centre[1])}
          r={crowd.radius}
          fill="#e5484d"
          fill-opacity="0.12"
          stroke="#e5484d"
          stroke-width={font * 0.3}
          stroke-dasharray={`${font * 0.8} ${font * 0.4}`}
        />
      ))}
      {located.map(point => (
        // A fire-panel point in alarm, at its own position (registry `points`), not the panel's.
        <circle
          key={point.alarmId}
          class={`located-alarm p${point.priority}${point.unacknowledged ? ' blink' : ''}`}
          data-located-alarm={point.alarmId}
          cx={point.position[0]}
          cy={sy(point.position[1])}
          r={symbol * 1.6}
          fill="none"
          stroke={point.priority === 1 ? '#e5484d' : '#f59e0b'}
          stroke-width={symbol * 0.5}
          onClick={event => {
            event.stopPropagation();
            props.onDevice?.(point.deviceId);
          }}
        />
      ))}
      {[...(props.positions?.values() ?? [])].map(tag => (
        <g
          key={tag.deviceId}
          class={`tag-dot${tag.stale ? ' stale' : ''}`}
          data-tag={tag.deviceId}
          style={{ transform: `translate(${tag.x}px, ${sy(tag.y)}px)` }}
          onClick={event => {
            event.stopPropagation();
            props.onDevice?.(tag.deviceId);
          }}
        >
          <title>{`${tag.name} (${tag.deviceId})`}</title>
          <circle
            r={symbol * 1.1}
            fill={tag.stale ? 'none' : '#7dd3fc'}
            stroke="#0ea5e9"
            stroke-width={symbol * 0.35}
          />
          <text y={-symbol * 1.6} font-size={font * 0.7} text-anchor="middle" class="tag-name">
            {tag.name}
          </text>
        </g>
      ))}
    </svg>
  );
}
