import type { Alarm } from '@vigil/contracts';

import { isHidden, raiseToken } from './alarms';

export type ToneMode = 'off' | 'p1' | 'p2';
/** What the operator sees next to the mute button. */
export type AnnunciatorState = ToneMode | 'muted' | 'blocked';

export interface Mute {
  readonly until: number;
  /** The activations that were sounding when the operator muted: only these stay silent. */
  readonly tokens: ReadonlySet<string>;
}

export const NO_MUTE: Mute = { until: 0, tokens: new Set() };

/**
 * Activations that call for the horn: unacknowledged, condition present, P1 or P2, not shelved or
 * suppressed. A return to normal (`returned-unacknowledged`) never sounds: the condition is gone,
 * it only waits for an acknowledgement (the FUXA complaint of horns re-sounding on return).
 */
export function soundingAlarms(alarms: Iterable<Alarm>, now: number): Map<string, Alarm> {
  const sounding = new Map<string, Alarm>();
  for (const alarm of alarms) {
    if (alarm.state === 'active-unacknowledged' && alarm.priority <= 2 && !isHidden(alarm, now))
      sounding.set(raiseToken(alarm), alarm);
  }
  return sounding;
}

/**
 * The tone to play: the most urgent activation that is not muted. Muting covers only the
 * activations that sounded when it was pressed, so a new alarm (or a re-raised one) sounds even
 * while muted.
 */
export function decideTone(alarms: Iterable<Alarm>, mute: Mute, now: number): ToneMode | 'muted' {
  let mode: ToneMode = 'off';
  let mutedAny = false;
  for (const [token, alarm] of soundingAlarms(alarms, now)) {
    if (now < mute.until && mute.tokens.has(token)) {
      mutedAny = true;
      continue;
    }
    if (alarm.priority === 1) return 'p1';
    mode = 'p2';
  }
  return mode === 'off' && mutedAny ? 'muted' : mode;
}

export function muteCurrent(alarms: Iterable<Alarm>, seconds: number, now: number): Mute {
  return { until: now + seconds * 1000, tokens: new Set(soundingAlarms(alarms, now).keys()) };
}

/** New unacknowledged P3 activations get one short chime each (they do not loop). */
export function newChimes(alarms: Iterable<Alarm>, chimed: Set<string>, now: number): number {
  let count = 0;
  for (const alarm of alarms) {
    if (alarm.state !== 'active-unacknowledged' || alarm.priority !== 3 || isHidden(alarm, now))
      continue;
    const token = raiseToken(alarm);
    if (chimed.has(token)) continue;
    chimed.add(token);
    count += 1;
  }
  return count;
}

const LOOKAHEAD_S = 1.2;
const SCHEDULER_MS = 250;
const VOLUME = 0.18;

/**
 * Web Audio annunciator. P1: a fast two-tone (960/770 Hz, 4 changes a second) that loops; P2: one
 * 880 Hz beep a second; P3: a single two-note chime. Browsers keep audio blocked until the user
 * has interacted with the page: the state is then `blocked` and the header asks for a click.
 */
export class Annunciator {
  private context: AudioContext | undefined;
  private oscillator: OscillatorNode | undefined;
  private gain: GainNode | undefined;
  private mode: ToneMode = 'off';
  private nextAt = 0;
  private step = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private alarms: readonly Alarm[] = [];
  private mute: Mute = NO_MUTE;
  private readonly chimed = new Set<string>();
  private primed = false;
  private state: AnnunciatorState = 'off';
  private readonly listeners = new Set<(state: AnnunciatorState) => void>();

  /** Call from a user gesture (login, a click): browsers only start audio then. */
  enable(): void {
    if (typeof AudioContext === 'undefined') return;
    if (!this.context) {
      this.context = new AudioContext();
      this.gain = this.context.createGain();
      this.gain.gain.value = 0;
      this.gain.connect(this.context.destination);
      this.oscillator = this.context.createOscillator();
      this.oscillator.type = 'square';
      this.oscillator.connect(this.gain);
      this.oscillator.start();
    }
    if (this.context.state === 'suspended') void this.context.resume().then(() => this.evaluate());
    this.evaluate();
  }

  update(alarms: readonly Alarm[]): void {
    this.alarms = alarms;
    const now = Date.now();
    // Alarms already open when the console starts do not chime; the horn loops for P1/P2 anyway.
    const chimes = newChimes(alarms, this.chimed, now);
    if (this.primed && chimes > 0) this.chime();
    this.primed = true;
    this.evaluate();
  }

  muteFor(seconds: number): void {
    this.mute = muteCurrent(this.alarms, seconds, Date.now());
    this.evaluate();
  }

  unmute(): void {
    this.mute = NO_MUTE;
    this.evaluate();
  }

  mutedSecondsLeft(): number {
    return Math.max(0, Math.ceil((this.mute.until - Date.now()) / 1000));
  }

  onChange(listener: (state: AnnunciatorState) => void): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  dispose(): void {
    this.setMode('off');
    clearInterval(this.timer);
    this.timer = undefined;
    void this.context?.close();
    this.context = undefined;
  }

  private evaluate(): void {
    const decided = decideTone(this.alarms, this.mute, Date.now());
    const mode: ToneMode = decided === 'muted' ? 'off' : decided;
    this.setMode(mode);
    const audible = this.context !== undefined && this.context.state === 'running';
    const state: AnnunciatorState = mode !== 'off' && !audible ? 'blocked' : decided;
    // While muted or sounding, re-evaluate every second: mutes expire, counters tick.
    if ((decided !== 'off' || this.mute.until > Date.now()) && this.timer === undefined)
      this.timer = setInterval(() => this.tick(), SCHEDULER_MS);
    if (state !== this.state) {
      this.state = state;
      for (const listener of this.listeners) listener(state);
    }
  }

  private tick(): void {
    if (this.mode !== 'off') this.schedule();
    const decided = decideTone(this.alarms, this.mute, Date.now());
    if (decided === 'off' && this.mute.until <= Date.now() && this.mode === 'off') {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    this.evaluate();
  }

  private setMode(mode: ToneMode): void {
    if (mode === this.mode) return;
    this.mode = mode;
    const context = this.context;
    if (!context || !this.gain) return;
    this.gain.gain.cancelScheduledValues(context.currentTime);
    this.oscillator?.frequency.cancelScheduledValues(context.currentTime);
    this.gain.gain.setValueAtTime(0, context.currentTime);
    this.nextAt = context.currentTime + 0.05;
    this.step = 0;
    if (mode !== 'off') this.schedule();
  }

  /** Programs the pattern a little ahead of time so that timer jitter never gaps the tone. */
  private schedule(): void {
    const context = this.context;
    const gain = this.gain?.gain;
    const frequency = this.oscillator?.frequency;
    if (!context || !gain || !frequency) return;
    const horizon = context.currentTime + LOOKAHEAD_S;
    if (this.nextAt < context.currentTime) this.nextAt = context.currentTime + 0.05;
    while (this.nextAt < horizon) {
      if (this.mode === 'p1') {
        frequency.setValueAtTime(this.step % 2 === 0 ? 960 : 770, this.nextAt);
        gain.setValueAtTime(VOLUME, this.nextAt);
        this.nextAt += 0.25;
      } else if (this.mode === 'p2') {
        frequency.setValueAtTime(880, this.nextAt);
        gain.setValueAtTime(VOLUME, this.nextAt);
        gain.setValueAtTime(0, this.nextAt + 0.3);
        this.nextAt += 1;
      } else return;
      this.step += 1;
    }
  }

  private chime(): void {
    const context = this.context;
    if (!context || context.state !== 'running' || this.mode !== 'off') return;
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.type = 'sine';
    oscillator.connect(gain);
    gain.connect(context.destination);
    const start = context.currentTime + 0.02;
    oscillator.frequency.setValueAtTime(660, start);
    oscillator.frequency.setValueAtTime(880, start + 0.18);
    gain.gain.setValueAtTime(VOLUME, start);
    gain.gain.setValueAtTime(0, start + 0.4);
    oscillator.start(start);
    oscillator.stop(start + 0.45);
  }
}
