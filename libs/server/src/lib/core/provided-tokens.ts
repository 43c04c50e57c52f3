import type { InjectionToken, Provider } from '@nestjs/common';

/** The tokens a list of providers provides (a class is its own token). */
export function providedTokens(providers: readonly Provider[]): InjectionToken[] {
  return providers.map(provider => (typeof provider === 'function' ? provider : provider.provide));
}

/**
 * Of the tokens a module offers the rest of the process, those it provides in this configuration
 * (Nest refuses to export a token the module does not provide).
 */
export function exportsOf(
  providers: readonly Provider[],
  offered: readonly InjectionToken[],
): InjectionToken[] {
  const provided = new Set(providedTokens(providers));
  return offered.filter(token => provided.has(token));
}
