export const PAGES = [
  'alarms',
  'hazards',
  'inspections',
  'permits',
  'duty',
  'history',
  'plan',
  'risk',
  'trends',
  'health',
  'performance',
  'enterprises',
  'orders',
] as const;
/** Pages shown only where the instance has the feature (the uplink's upper or lower side). */
export const FEATURE_PAGES: Readonly<Partial<Record<Page, 'upper' | 'lower'>>> = {
  enterprises: 'upper',
  orders: 'lower',
};
export type Page = (typeof PAGES)[number];

export interface Route {
  readonly page: Page | 'login';
  readonly params: Readonly<Record<string, string>>;
}

/** `#/trends?site=plant-1&device=gc-tf-01` → { page: 'trends', params: { site, device } }. */
export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const params = Object.fromEntries(new URLSearchParams(query));
  if (path === 'login') return { page: 'login', params };
  const page = (PAGES as readonly string[]).includes(path) ? (path as Page) : 'alarms';
  return { page, params };
}

export function routeHref(
  page: Page | 'login',
  params: Readonly<Record<string, string | undefined>> = {},
): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  const query = search.toString();
  return `#/${page}${query ? `?${query}` : ''}`;
}
