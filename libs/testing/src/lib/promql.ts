/**
 * The metric names a PromQL expression reads: identifiers that are not functions, label names,
 * keywords or durations. Good enough for the expressions Vigil ships (alert rules, dashboards),
 * so that their checks can compare them with what Vigil exposes.
 */
export function promqlMetricNames(expr: string): string[] {
  const withoutLiterals = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]');
  const withoutGrouping = withoutLiterals.replace(
    /\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g,
    '',
  );
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);
  return [...withoutGrouping.matchAll(/(?<![\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(?!\s*\()(?![\w])/g)]
    .map(match => match[1] as string)
    .filter(name => !keywords.has(name.toLowerCase()));
}
