import type { EventRuleConfig } from '../rule-config';
import { type FamilyRules, eventRule } from './common';

// ---- Fire panels and manual call points (domain-standards §6, §9.6) ----

/** Fire panels: one rule per panel state (`firePanelRules`). */
export const firePanelFamilyRules: FamilyRules = (_device, rules) => {
  rules.push(...firePanelRules());
};

/** Manual call points: one latched P1 per activation. */
export const callPointRules: FamilyRules = (_device, rules) => {
  rules.push(
    eventRule('call-point', 'alarm', 'pulse', 1, 'process', true, 'Manual call point activated'),
  );
};

/**
 * GB 26875 / GB 4717 fire panels (domain-standards §6, §9.6). Every signal is keyed per point
 * (`detail.loop` / `detail.point`) or zone, located at the point's area from the registry. A panel
 * `reset` (复位) clears what the panel's reset clears: fires, faults, supervisory signals, linkage
 * starts and feedback. It does not clear isolations (屏蔽, released only by the panel), power
 * faults (present until the panel reports them restored) or manual mode (until `auto_mode`):
 * clearing those on a reset would hide a condition that is still there.
 */
export function firePanelRules(): EventRuleConfig[] {
  return [
    // Fire first (GB 26875.1 §4.1.2.3: fire alarms have priority). One P1 per point: every
    // concurrent fire is its own alarm; a zone with a confirmation window also raises a
    // confirmed fire when two of its points report (GB 50116 AND logic, S; window P).
    {
      ...eventRule(
        'fire',
        'fire',
        'hold',
        1,
        'process',
        true,
        'Unconfirmed fire (GB 25201 §5.3: confirm or reject)',
      ),
      confirmZones: true,
    },
    eventRule('fault', 'fault', 'hold', 3, 'quality', false, 'Fire panel fault'),
    eventRule(
      'supervisory',
      'supervisory',
      'hold',
      3,
      'process',
      false,
      'Supervisory signal (监管)',
    ),
    // An isolated (disabled) point detects nothing and the panel shows it only as a yellow lamp:
    // hidden loss of protection the operator must see (GB 4717 屏蔽 lamp, S). P2 (P), not
    // cleared by reset.
    eventRule(
      'isolation',
      'isolation',
      'hold',
      2,
      'quality',
      false,
      'Point isolated (屏蔽): no fire detection there',
      [],
    ),
    // Linkage start (启动) and feedback (反馈) are states the operator follows, not alarms to
    // respond to (domain-standards §8): P4 warnings, so they are on the console with the fire.
    eventRule('start', 'start', 'hold', 4, 'warning', false, 'Linkage started (启动)'),
    eventRule('feedback', 'feedback', 'hold', 4, 'warning', false, 'Linkage feedback (反馈)'),
    // Mains failure leaves the panel on its battery: detection ends when it runs down, so P2
    // (§9.6 fault row: P2 when it disables detection, P). Backup (battery) fault alone: P3.
    eventRule(
      'mains-fault',
      'mains_fault',
      'hold',
      2,
      'quality',
      false,
      'Fire panel mains power fault (主电故障)',
      [],
    ),
    eventRule(
      'backup-fault',
      'backup_fault',
      'hold',
      3,
      'quality',
      false,
      'Fire panel backup power fault (备电故障)',
      [],
    ),
    // Manual mode: linkage will not start by itself (GB 25201 §5.3 step 3 switches to AUTO on a
    // confirmed fire, V): a standing P3 warning until the panel reports auto.
    eventRule(
      'manual-mode',
      'manual_mode',
      'hold',
      3,
      'warning',
      false,
      'Fire panel in manual mode (手动): no automatic linkage',
      ['auto_mode'],
    ),
  ];
}
