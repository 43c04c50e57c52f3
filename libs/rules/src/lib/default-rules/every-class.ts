// Defaults shared by several device families (domain-standards §9.1–§9.8).

/** Window of every rate-of-change default: "within 60 s" / "per minute" (§9.1, §9.2, §9.3, P). */
export const RATE_WINDOW_MS = 60_000;
/** A rate warning clears once the change over the window is under half its delta (P). */
export const RATE_CLEAR_FRACTION = 0.5;
export const STUCK_DURATION_MS = 86_400_000;
/** Out of range: < −2 % or > 102 % of span for ≥ 60 s → FAULT (§9.4 out of range, P). */
export const OUT_OF_RANGE_FRACTION = 0.02;
export const RANGE_ON_DELAY_MS = 60_000;
/**
 * Electrical trend forecast (P): insulation and joints degrade over minutes to hours, so a 10 min
 * window and a 30 min horizon; at least 20 mA / 2 °C of fitted change over the window.
 */
export const SLOW_TREND_WINDOW_MS = 600_000;
export const SLOW_TREND_HORIZON_MS = 1_800_000;
export const SLOW_TREND_MIN_SAMPLES = 5;
/** Offline after max(3 × interval, 30 s) of silence (domain-standards §9.1 / §9.8 offline row, P). */
export const OFFLINE_INTERVALS = 3;
export const OFFLINE_MIN_TIMEOUT_MS = 30_000;
/** Gas controllers must report a lost detector within 100 s (GB 16808, domain-standards §1.5, S). */
export const GAS_OFFLINE_MAX_TIMEOUT_MS = 100_000;
/** Clock skew: |skew| > 60 s → P4 (§9.8 clock-skew row, P); clears within 30 s (proposal: half the limit). */
export const CLOCK_SKEW_MAX_MS = 60_000;
export const CLOCK_SKEW_CLEAR_MS = 30_000;
/** …held for 60 s of receive time, so a buffered batch delivered at once never raises it (P). */
export const CLOCK_SKEW_ON_DELAY_MS = 60_000;
