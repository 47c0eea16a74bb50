/** An error that maps to an HTTP status and a GOV.UK-style page (or JSON for APIs). */
export class HttpError extends Error {
  constructor(
    public readonly statusCode: 403 | 404 | 400 | 409 | 410 | 413 | 429 | 503,
    message: string,
    public readonly detail: { heading?: string; csrf?: boolean } = {},
  ) {
    super(message);
  }
}

export const forbidden = (message = 'You do not have permission to see this page or take this action.') => new HttpError(403, message);
export const notFound = (message = 'Page not found') => new HttpError(404, message);

/** Paths answered with JSON errors rather than HTML pages. */
export function wantsJson(url: string, accept: string | undefined): boolean {
  return url.startsWith('/api/') || url.startsWith('/healthz') || url.startsWith('/open311/') || (accept ?? '').startsWith('application/json');
}
