/** Site and device identifiers, pinned by the public interface (`shared/spec/interfaces.md` §1). */
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidIdentifier(value: string): boolean {
  return IDENTIFIER_PATTERN.test(value);
}
