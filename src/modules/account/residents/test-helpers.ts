import assert from 'node:assert/strict';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { sql } from 'kysely';
import type { Platform } from '#platform/platform';

/** The parts of the test client (test/support/app.ts) these helpers use. */
interface Browser {
  cookies: Map<string, string>;
  get(url: string): Promise<Awaited<ReturnType<FastifyInstance['inject']>>>;
  post(url: string, form: Record<string, string | string[]>, opts?: { csrf?: string | false }): Promise<Awaited<ReturnType<FastifyInstance['inject']>>>;
}

let nextAddress = 1;

/**
 * A browser with its own IP address, so the per-IP rate limits on sign-in and registration
 * apply to each simulated person separately, as they would in real use.
 */
export function browser<C extends Browser>(t: { app: FastifyInstance; client(): C }, opts: { https?: boolean } = {}): C {
  const n = nextAddress++;
  const remoteAddress = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  // Behind the production proxy, requests arrive marked as HTTPS so secure cookies are set.
  const extra = opts.https ? { 'x-forwarded-proto': 'https' } : {};
  const app = {
    inject: (o: InjectOptions) => t.app.inject({ ...o, remoteAddress, headers: { ...(o.headers as Record<string, string> | undefined), ...extra } }),
  } as unknown as FastifyInstance;
  const Client = t.client().constructor as new (app: FastifyInstance) => C;
  return new Client(app);
}

export interface OutboxEmail {
  recipient: string;
  subject: string;
  body: string;
}

export async function emailsTo(t: { platform: Platform }, to: string): Promise<OutboxEmail[]> {
  const r =
    await sql<OutboxEmail>`SELECT recipient, subject, body FROM notification_outbox WHERE lower(recipient) = lower(${to}) ORDER BY created_at, id`.execute(
      t.platform.database.db,
    );
  return r.rows;
}

export async function lastEmailTo(t: { platform: Platform }, to: string): Promise<OutboxEmail> {
  const all = await emailsTo(t, to);
  const last = all.at(-1);
  assert.ok(last, `no email to ${to}`);
  return last;
}

/** The path and query of the first link in an email that goes to the given path. */
export function linkIn(email: OutboxEmail, path: string): string {
  const m = new RegExp(`https?://[^\\s/]+(${path.replace(/[/?]/g, (c) => `\\${c}`)}\\?token=[^\\s]+)`).exec(email.body);
  assert.ok(m?.[1], `no ${path} link in "${email.subject}"`);
  return m[1];
}

/** Opens a link from an email and presses the button on the page it shows. */
export async function useLink(client: Browser, link: string) {
  const page = await client.get(link);
  assert.equal(page.statusCode, 200, `link page answered ${page.statusCode}`);
  const action = /<form method="post" action="([^"]+)"/.exec(page.body)?.[1];
  const token = /name="token" value="([^"]+)"/.exec(page.body)?.[1];
  assert.ok(action && token, 'the link page has a form with the token');
  return client.post(action, { token: token.replace(/&amp;/g, '&') });
}

export const STRONG_PASSWORD = 'correct horse battery staple';

/** Registers through the web pages and confirms the email address. Leaves the browser signed in. */
export async function registerResident<C extends Browser>(
  t: { app: FastifyInstance; platform: Platform; client(): C },
  email: string,
  password = STRONG_PASSWORD,
): Promise<C> {
  const client = browser(t);
  await client.get('/account/register');
  const r = await client.post('/account/register', { email, password, confirmPassword: password });
  assert.equal(r.statusCode, 200);
  const res = await useLink(client, linkIn(await lastEmailTo(t, email), '/account/confirm-email'));
  assert.equal(res.statusCode, 302);
  return client;
}

/** Signs in with a password in a new browser. */
export async function signIn<C extends Browser>(t: { app: FastifyInstance; client(): C }, email: string, password = STRONG_PASSWORD): Promise<C> {
  const client = browser(t);
  await client.get('/account/sign-in');
  const r = await client.post('/account/sign-in', { email, password });
  assert.equal(r.statusCode, 302, `sign-in answered ${r.statusCode}`);
  return client;
}

export function sessionCookie(client: Browser): string | undefined {
  return client.cookies.get('borough_session');
}

/** The only row a query returned. */
export function one<T>(rows: T[]): T {
  assert.equal(rows.length, 1, `expected one row, got ${rows.length}`);
  return rows[0] as T;
}

/** The first capture of a pattern that must match. */
export function capture(pattern: RegExp, text: string): string {
  const m = pattern.exec(text);
  assert.ok(m?.[1], `${pattern} not found`);
  return m[1];
}
