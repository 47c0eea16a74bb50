import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Starts a signed-in session on a new session id (so an id planted before sign-in is useless),
 * keeping the other kind of identity if one is signed in on the same browser.
 */
export async function beginSession(request: FastifyRequest, kind: 'resident' | 'staff', id: string): Promise<void> {
  const keep = kind === 'resident' ? ['staffId'] : ['residentId'];
  await request.session.regenerate(keep);
  if (kind === 'resident') request.session.residentId = id;
  else request.session.staffId = id;
  request.session.startedAt = Date.now();
}

export async function endSession(request: FastifyRequest): Promise<void> {
  await request.session.destroy();
}

/** Where to go after signing in: only a path on this site, never another site. */
export function safeReturnTo(value: unknown, fallback: string): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return fallback;
  return value;
}

export function redirectToSignIn(request: FastifyRequest, reply: FastifyReply, signInPath: string): FastifyReply {
  return reply.redirect(`${signInPath}?returnTo=${encodeURIComponent(request.url)}`);
}
