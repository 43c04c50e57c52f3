import { DEMO_PASSWORD, DEMO_USERS } from './auth/demo-users';

export interface BannerInput {
  readonly httpUrl: string;
  readonly mqttUrl: string;
  readonly demoMode: boolean;
  /** Open alarms restored from the journal of an earlier run. */
  readonly restoredAlarms?: number;
  /** The simulator runs and reads commands from this terminal. */
  readonly simulator: boolean;
}

/**
 * The one banner of `npm start` / `./scripts/demo.sh`: where to look, who to log in as and how
 * to make something happen. Pure, so that its content is tested (banner.spec.ts).
 */
export function formatBanner(input: BannerInput): string {
  const lines = [
    '',
    '  ┌─ Vigil is running ─────────────────────────────────────────────',
    `  │ Console   ${input.httpUrl}/`,
    `  │ API docs  ${input.httpUrl}/api/docs   (OpenAPI JSON: ${input.httpUrl}/api/docs-json)`,
    `  │ Health    ${input.httpUrl}/readyz   Metrics ${input.httpUrl}/metrics`,
    `  │ MQTT      ${input.mqttUrl}`,
  ];
  if (input.demoMode) {
    const users = DEMO_USERS.map(user => `${user.id} (${user.role})`).join(', ');
    lines.push(`  │ Demo users ${users}; password "${DEMO_PASSWORD}"`);
  }
  if (input.restoredAlarms !== undefined && input.restoredAlarms > 0) {
    lines.push(
      `  │ ${input.restoredAlarms} open alarm(s) restored from the previous run` +
        ' (start with --fresh or VIGIL_FRESH=1 to begin clean)',
    );
  }
  if (input.simulator) {
    lines.push(
      '  │ A scripted gas leak starts at gc-tf-02 in 45 s. Inject another: type',
      '  │   leak gc-ru-01      and Enter (help lists the commands); Ctrl+C stops.',
    );
  }
  lines.push('  └────────────────────────────────────────────────────────────────', '');
  return lines.join('\n');
}
