import type { z } from 'zod';

/**
 * The known key a misspelt one most likely meant: the same letters in another case or with `-`/`_`
 * swapped (`minpeople` → `minPeople`), else the nearest by edit distance, at most 2 edits (and
 * fewer than half the key). `undefined` when nothing is close.
 */
export function suggestKey(key: string, known: Iterable<string>): string | undefined {
  const fold = (text: string) => text.toLowerCase().replace(/[-_\s]/g, '');
  const folded = fold(key);
  let best: string | undefined;
  let bestDistance = Math.min(2, Math.floor((key.length - 1) / 2)) + 1;
  for (const candidate of known) {
    if (candidate === key) continue;
    if (fold(candidate) === folded) return candidate;
    const distance = editDistance(folded, fold(candidate), bestDistance);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `"Unrecognized key: "minpeople"; did you mean "minPeople"?"` for unknown-key issues. */
export function issueMessage(issue: z.core.$ZodIssue, known: Iterable<string> | undefined): string {
  if (issue.code !== 'unrecognized_keys' || known === undefined) return issue.message;
  const candidates = [...known];
  const hints = issue.keys.flatMap(key => {
    const suggestion = suggestKey(key, candidates);
    return suggestion ? [`"${suggestion}"${issue.keys.length > 1 ? ` for "${key}"` : ''}`] : [];
  });
  return hints.length > 0 ? `${issue.message}; did you mean ${hints.join(', ')}?` : issue.message;
}

/** Levenshtein distance, giving up (returning `limit`) once it reaches `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(
        (previous[j] ?? limit) + 1,
        (current[j - 1] ?? limit) + 1,
        (previous[j - 1] ?? limit) + cost,
      );
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin >= limit) return limit;
    previous = current;
  }
  return Math.min(previous[b.length] ?? limit, limit);
}
