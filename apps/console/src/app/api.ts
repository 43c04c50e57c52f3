import type { SessionView } from '@vigil/contracts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let token: string | undefined;
let unauthorized: () => void = () => undefined;

/** The token every request carries, and what to do when the server refuses it (back to login). */
export function configureApi(options: {
  token: string | undefined;
  onUnauthorized: () => void;
}): void {
  token = options.token;
  unauthorized = options.onUnauthorized;
}

type Params = Readonly<Record<string, string | number | undefined>>;

export function withParams(path: string, params: Params = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== '') search.set(key, String(value));
  const query = search.toString();
  return query ? `${path}?${query}` : path;
}

async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers['Authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (response.status === 401 && !path.startsWith('/api/v1/auth/login')) unauthorized();
  if (!response.ok) {
    const payload = json as { message?: unknown; issues?: unknown } | undefined;
    const message = Array.isArray(payload?.issues)
      ? payload.issues.join('; ')
      : typeof payload?.message === 'string'
        ? payload.message
        : response.statusText || `HTTP ${response.status}`;
    throw new ApiError(response.status, message);
  }
  return json as T;
}

export const apiGet = <T>(path: string, params?: Params): Promise<T> =>
  request<T>('GET', withParams(path, params));
export const apiPost = <T>(path: string, body: unknown = {}): Promise<T> =>
  request<T>('POST', path, body);

/** A GET whose answer is a file (a report as HTML or PDF), with the token like every request. */
export async function apiBlob(path: string, params?: Params): Promise<Blob> {
  const headers: Record<string, string> = {};
  if (token) headers['Authorization'] = `Bearer ${token}`;
  const response = await fetch(withParams(path, params), { headers });
  if (response.status === 401) unauthorized();
  if (!response.ok) {
    const payload = (await response.json().catch(() => undefined)) as
      { message?: unknown } | undefined;
    throw new ApiError(
      response.status,
      typeof payload?.message === 'string'
        ? payload.message
        : response.statusText || `HTTP ${response.status}`,
    );
  }
  return response.blob();
}

/**
 * A POST whose body is a file (a hazard photo): its bytes as they are, with the token. The server
 * tells the type from the bytes; the Content-Type sent is only the browser's guess.
 */
export async function apiUpload<T>(path: string, file: Blob, params?: Params): Promise<T> {
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'Content-Type': file.type || 'application/octet-stream',
  };
  if (token) headers['Authorization'] = `Bearer ${token}`;
  const response = await fetch(withParams(path, params), { method: 'POST', headers, body: file });
  if (response.status === 401) unauthorized();
  const payload = (await response.json().catch(() => undefined)) as
    { message?: unknown } | undefined;
  if (!response.ok)
    throw new ApiError(
      response.status,
      typeof payload?.message === 'string'
        ? payload.message
        : response.statusText || `HTTP ${response.status}`,
    );
  return payload as T;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const SESSION_KEY = 'vigil.session';

/** The session lives in sessionStorage: one browser tab, gone when the tab closes (one shift). */
export function loadSession(now = Date.now()): SessionView | undefined {
  try {
    const session = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null') as SessionView | null;
    return session && session.expiresAt > now ? session : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(session: SessionView | undefined): void {
  if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(SESSION_KEY);
}
