/** CORS (CONTRACT.md §1): the frontend lives on another origin and sends preflights. */

export const ALLOWED_HEADERS = 'content-type, authorization, last-event-id';
export const ALLOWED_METHODS = 'GET, POST, PUT, DELETE, OPTIONS';

/** `http://localhost:*` matches any port of that host; anything else must match exactly. */
export function originAllowed(origin: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => {
    if (pattern === '*' || pattern === origin) return true;
    if (!pattern.endsWith(':*')) return false;
    const prefix = pattern.slice(0, -1);
    return origin.startsWith(prefix) && /^\d{1,5}$/.test(origin.slice(prefix.length));
  });
}

/** Headers to add to every answer for this request's origin (none when it is not allowed). */
export function corsHeaders(origin: string | undefined, patterns: readonly string[]): Record<string, string> {
  if (!origin || !originAllowed(origin, patterns)) return {};
  return { 'access-control-allow-origin': origin, vary: 'Origin' };
}

export function preflightHeaders(
  origin: string | undefined,
  patterns: readonly string[],
): Record<string, string> {
  return {
    ...corsHeaders(origin, patterns),
    'access-control-allow-methods': ALLOWED_METHODS,
    'access-control-allow-headers': ALLOWED_HEADERS,
    'access-control-max-age': '600',
  };
}
