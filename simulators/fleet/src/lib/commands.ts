import { DEVICE_CLASS_DEFINITIONS, EVENT_CODE_PATTERN } from '@vigil/contracts';

import {
  findArea,
  findDevice,
  firePanelEvent,
  type FleetDefinition,
  type FleetSimulator,
} from '@vigil/simulation';

/** A line typed on the simulator's stdin. Devices and areas are `id` or `siteId/id`. */
export type SimulatorCommand =
  | { readonly kind: 'leak'; readonly device: string; readonly peakLel: number | undefined }
  | { readonly kind: 'leak-area'; readonly area: string; readonly peakLel: number | undefined }
  | {
      readonly kind: 'event';
      readonly device: string;
      readonly code: string;
      readonly detail: Readonly<Record<string, unknown>> | undefined;
    }
  | {
      readonly kind: 'panel';
      readonly device: string;
      readonly state: string;
      readonly address: string | undefined;
    }
  | { readonly kind: 'stats' }
  | { readonly kind: 'help' }
  | { readonly kind: 'quit' }
  | { readonly kind: 'nothing' };

export type ParsedCommand =
  | { readonly ok: true; readonly command: SimulatorCommand }
  | { readonly ok: false; readonly error: string };

export const COMMAND_HELP = [
  'commands (one per line; a device or area is "id" or "siteId/id"):',
  '  leak <deviceId> [peakLel]       gas leak at a combustible detector (default peak 65 %LEL)',
  '  leak-area <areaId> [peakLel]    gas leak seen by every combustible detector of an area',
  '  event <deviceId> <code> [json]  event such as fire, fault, alarm, sos, with optional detail',
  '  panel <deviceId> <state> [addr] fire-panel signal with its GB 26875 address, e.g.',
  '                                  panel fp-main fire 1-23 | isolation 1-24 | start 3-5 |',
  '                                  mains-fault | backup-fault | manual | auto | reset',
  '  stats                           print the counters now',
  '  help                            this text',
  '  quit                            stop cleanly (devices go offline) and exit',
].join('\n');

function parsePeak(text: string | undefined): number | undefined | Error {
  if (text === undefined) return undefined;
  const peak = Number(text);
  return peak > 0 && peak <= 100
    ? peak
    : new Error(`peak must be a number in (0, 100], got "${text}"`);
}

export function parseCommand(line: string): ParsedCommand {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return { ok: true, command: { kind: 'nothing' } };
  const [verb = '', ...args] = trimmed.split(/\s+/);
  const usage = (text: string): ParsedCommand => ({ ok: false, error: `usage: ${text}` });
  switch (verb) {
    case 'leak':
    case 'leak-area': {
      if (args.length < 1 || args.length > 2) {
        return usage(
          verb === 'leak' ? 'leak <deviceId> [peakLel]' : 'leak-area <areaId> [peakLel]',
        );
      }
      const peakLel = parsePeak(args[1]);
      if (peakLel instanceof Error) return { ok: false, error: peakLel.message };
      const target = args[0] as string;
      return {
        ok: true,
        command:
          verb === 'leak'
            ? { kind: 'leak', device: target, peakLel }
            : { kind: 'leak-area', area: target, peakLel },
      };
    }
    case 'event': {
      const [device, code] = args;
      if (device === undefined || code === undefined) {
        return usage('event <deviceId> <code> [json detail]');
      }
      if (!EVENT_CODE_PATTERN.test(code)) {
        return { ok: false, error: `event code "${code}" must match ${EVENT_CODE_PATTERN}` };
      }
      // The detail is the rest of the line as typed, so JSON with spaces survives.
      const rest = trimmed.replace(/^\S+\s+\S+\s+\S+\s*/, '');
      if (rest === '') {
        return { ok: true, command: { kind: 'event', device, code, detail: undefined } };
      }
      let detail: unknown;
      try {
        detail = JSON.parse(rest);
      } catch {
        return { ok: false, error: `event detail must be a JSON object, got ${rest}` };
      }
      if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
        return { ok: false, error: `event detail must be a JSON object, got ${rest}` };
      }
      return {
        ok: true,
        command: { kind: 'event', device, code, detail: detail as Record<string, unknown> },
      };
    }
    case 'panel': {
      const [device, state, address] = args;
      if (device === undefined || state === undefined || args.length > 3) {
        return usage('panel <deviceId> <state> [loop-point | point | zone:<id>]');
      }
      return { ok: true, command: { kind: 'panel', device, state, address } };
    }
    case 'stats':
    case 'help':
    case 'quit':
      return args.length === 0 ? { ok: true, command: { kind: verb } } : usage(verb);
    case 'exit':
      return { ok: true, command: { kind: 'quit' } };
    default:
      return { ok: false, error: `unknown command "${verb}" (type "help")` };
  }
}

/** The simulator operations a command needs; a `FleetSimulator` fits. */
export type CommandTarget = Pick<FleetSimulator, 'injectGasLeak' | 'publishEvent'>;

/**
 * Runs a leak or event command and says what happened. Throws (with a message meant for the
 * operator) on unknown devices, wrong device classes and the like.
 */
export function executeCommand(
  command: Extract<SimulatorCommand, { kind: 'leak' | 'leak-area' | 'event' | 'panel' }>,
  simulator: CommandTarget,
  fleet: FleetDefinition,
): string {
  switch (command.kind) {
    case 'leak': {
      const device = findDevice(fleet, command.device);
      const leak = simulator.injectGasLeak({
        siteId: device.siteId,
        deviceId: device.deviceId,
        ...(command.peakLel === undefined ? {} : { peakLel: command.peakLel }),
      });
      const { peakLel, rampSeconds, holdSeconds, decaySeconds } = leak.profile;
      return (
        `gas leak at ${device.siteId}/${device.deviceId}: ${peakLel} %LEL after ${rampSeconds} s, ` +
        `held ${holdSeconds} s, gone ${decaySeconds} s later`
      );
    }
    case 'leak-area': {
      const { siteId, areaId } = findArea(fleet, command.area);
      const leak = simulator.injectGasLeak({
        siteId,
        areaId,
        ...(command.peakLel === undefined ? {} : { peakLel: command.peakLel }),
      });
      const seen = leak.targets
        .map(target => `${target.deviceId} ${target.peakLel.toFixed(1)}`)
        .join(', ');
      return `gas leak in ${siteId}/${areaId}, peak %LEL per detector: ${seen}`;
    }
    case 'event': {
      const device = findDevice(fleet, command.device);
      simulator.publishEvent(device.siteId, device.deviceId, command.code, command.detail);
      const usual = DEVICE_CLASS_DEFINITIONS[device.deviceClass].events;
      // Ingest accepts only the class's events; sending others is how dead letters are tested.
      const note = usual.includes(command.code)
        ? ''
        : ` (not a ${device.deviceClass} event, ingest will dead-letter it; usual: ${usual.join(', ')})`;
      return `event ${command.code} sent for ${device.siteId}/${device.deviceId}${note}`;
    }
    case 'panel': {
      const device = findDevice(fleet, command.device);
      const event = firePanelEvent(device, command.state, command.address);
      simulator.publishEvent(device.siteId, device.deviceId, event.code, event.detail);
      return `panel ${command.state} sent for ${device.siteId}/${device.deviceId}: ${event.code} ${JSON.stringify(event.detail)}`;
    }
  }
}
