import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { Role, StaffMember } from '#modules/account/index';
import { generateTotp, TOTP_PERIOD_SECONDS } from '#platform/security/totp';
import { DEMO_PASSWORD, DEMO_TOTP_SECRET } from '../../src/modules/account/staff/demo.test-support.js';
import { TestClient, type TestApp } from './app.js';

/** A demo staff member signed in on a browser of their own. */
export interface SignedInStaff {
  client: TestClient;
  /** The browser's remote address, for requests made without the client (such as multipart uploads). */
  ip: string;
  member: StaffMember;
}

let nextAddress = 1;

/**
 * Signs the demo staff member with a role in over HTTP, as a browser would: the password, then a code
 * from the authenticator. Each browser gets its own remote address, as sign-in is rate limited per address.
 */
export async function signInDemoStaff(t: TestApp, role: Role): Promise<SignedInStaff> {
  const n = nextAddress++;
  const ip = `10.250.${(n >> 8) & 255}.${n & 255}`;
  const client = new TestClient({ inject: (opts: Record<string, unknown>) => t.app.inject({ ...opts, remoteAddress: ip }) } as unknown as FastifyInstance);
  const email = `${role}@kingsmere.example`;
  await client.get('/staff/sign-in');
  const res = await client.post('/staff/sign-in', { email, password: DEMO_PASSWORD });
  assert.equal(res.headers.location, '/staff/sign-in/code', `${role} password accepted`);
  await client.get('/staff/sign-in/code');
  // The demo roles share one authenticator secret, and a code is refused if its time step was already
  // used. The code is from the previous time step, which is still accepted, so the current step stays
  // free for a test that signs the same person in again.
  const previousStepCode = () => generateTotp(DEMO_TOTP_SECRET, { now: Date.now() - TOTP_PERIOD_SECONDS * 1000 });
  let done = await client.post('/staff/sign-in/code', { code: previousStepCode() });
  if (done.headers.location !== '/staff') {
    // A time step can end between making the code and checking it, leaving the code two steps old.
    await client.get('/staff/sign-in/code');
    done = await client.post('/staff/sign-in/code', { code: previousStepCode() });
  }
  assert.equal(done.headers.location, '/staff', `${role} signed in (${done.statusCode})`);
  const member = await t.services.account.staff.findMemberByEmail(email);
  assert.ok(member, `${email} is missing`);
  return { client, ip, member };
}
