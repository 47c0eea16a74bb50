import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { recordAudit, type Actor } from '#platform/audit/index';
import { destroyUserSessions } from '#platform/http/session-store';
import { queueEmail } from '#platform/notify/index';
import type { Address } from '#platform/geo/index';
import { normalisePostcode } from '#platform/geo/index';
import {
  SIGN_IN_LOCKOUT_THRESHOLD,
  checkNewPassword,
  hashPassword,
  needsRehash,
  nextSignInAllowedAt,
  signInDelay,
  verifyPassword,
  verifyPasswordForUnknownAccount,
} from '#platform/security/passwords';
import { sha256Hex, signToken, verifyToken } from '#platform/security/tokens';
import type { ActivityItem } from '../activity.js';
import type { AccountContext } from '../index.js';
import type { ResidentAddress } from '../migrations.js';
import { redirectToSignIn, safeReturnTo } from '../session.js';
import { emails, type EmailContent } from './emails.js';
import { createResidentRepository, type Resident, type ResidentTx } from './repository.js';
import { emailProblem, normaliseEmail, parseUkPhone, postcodeProblem, type FieldErrors } from './validation.js';

export type { FieldErrors } from './validation.js';
export type { Resident } from './repository.js';

export const SIGN_IN_PATH = '/account/sign-in';
export const ACCOUNT_HOME = '/account';

const HOUR = 60 * 60 * 1000;
export const LINK_LIFETIMES = {
  'verify-email': 24 * HOUR,
  'sign-in-link': 15 * 60 * 1000,
  'reset-password': HOUR,
} as const;
export type LinkPurpose = keyof typeof LINK_LIFETIMES;

/** What a page may show about the signed-in resident (never the password hash). */
export interface ResidentProfile {
  id: string;
  email: string;
  emailVerified: boolean;
  name: string | null;
  phone: string | null;
  address: ResidentAddress | null;
  contactByEmail: boolean;
  contactBySms: boolean;
  hasPassword: boolean;
  isDemo: boolean;
  createdAt: Date;
  lastSignInAt: Date | null;
}

/** Who is acting and on which request, for the audit log. */
export interface RequestMeta {
  requestId?: string;
  /** The current session, kept when other sessions are ended. */
  sessionId?: string;
}

export type FormResult<T = undefined> = { ok: true; value: T } | { ok: false; errors: FieldErrors };

export type SignInResult =
  | { status: 'signed-in'; residentId: string }
  | { status: 'invalid'; errors: FieldErrors }
  | { status: 'throttled'; waitSeconds: number }
  | { status: 'locked'; minutes: number }
  | { status: 'unverified'; email: string }
  | { status: 'demo-refused' };

export type LinkProblem = 'invalid' | 'expired' | 'used';

export type LinkSignInResult = { ok: true; residentId: string; returnTo: string } | { ok: false; reason: LinkProblem | 'demo-refused' };

export type ConfirmEmailResult =
  { ok: true; residentId: string; kind: 'registered' | 'changed' | 'already-confirmed' } | { ok: false; reason: LinkProblem | 'taken' };

export interface ActivitySection {
  heading: string;
  items: ActivityItem[];
}

export interface DetailsInput {
  name: string;
  phone: string;
  contact: string[];
}

export interface ManualAddressInput {
  addressLine1: string;
  addressLine2: string;
  town: string;
  postcode: string;
}

export type AddressLookup = { ok: true; postcode: string; addresses: Address[] } | { ok: false; errors: FieldErrors };

export interface ResidentService {
  /** preHandler: lets signed-in residents through, sends anyone else to sign in and back. */
  guard(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** The resident the guard let through on this request. */
  current(request: FastifyRequest): ResidentProfile;
  /** The resident signed in on this request's session, if any (without redirecting). */
  signedIn(request: FastifyRequest): Promise<ResidentProfile | undefined>;
  profile(residentId: string): Promise<ResidentProfile | undefined>;

  register(input: { email: string; password: string; confirmPassword: string }, meta: RequestMeta): Promise<FormResult<{ email: string }>>;
  resendConfirmation(email: string): Promise<void>;
  /** Checks a link without using it up (for the page with the button that uses it). */
  checkLink(purpose: LinkPurpose, token: string): Promise<{ ok: true } | { ok: false; reason: LinkProblem }>;
  confirmEmail(token: string, meta: RequestMeta): Promise<ConfirmEmailResult>;

  signInWithPassword(input: { email: string; password: string }, meta: RequestMeta): Promise<SignInResult>;
  requestSignInLink(input: { email: string; returnTo?: string }): Promise<FormResult<{ email: string }>>;
  signInWithLink(token: string, meta: RequestMeta): Promise<LinkSignInResult>;
  requestPasswordReset(input: { email: string }): Promise<FormResult<{ email: string }>>;
  resetPassword(
    input: { token: string; password: string; confirmPassword: string },
    meta: RequestMeta,
  ): Promise<FormResult | { ok: false; reason: LinkProblem }>;

  signOutEverywhere(residentId: string, meta: RequestMeta): Promise<number>;
  recordSignOut(residentId: string, meta: RequestMeta): Promise<void>;

  activity(residentId: string): Promise<ActivitySection[]>;
  updateDetails(residentId: string, input: DetailsInput, meta: RequestMeta): Promise<FormResult>;
  findAddresses(postcode: string): Promise<AddressLookup>;
  chooseAddress(residentId: string, input: { postcode: string; uprn: string }, meta: RequestMeta): Promise<FormResult>;
  setManualAddress(residentId: string, input: ManualAddressInput, meta: RequestMeta): Promise<FormResult>;

  requestEmailChange(residentId: string, input: { email: string; password: string }, meta: RequestMeta): Promise<FormResult<{ email: string }>>;
  changePassword(residentId: string, input: { currentPassword: string; password: string; confirmPassword: string }, meta: RequestMeta): Promise<FormResult>;

  exportData(residentId: string, meta: RequestMeta): Promise<Record<string, unknown>>;
  /** The same export for a subject access request handled by the council (command line). */
  exportByEmail(email: string): Promise<Record<string, unknown> | undefined>;
  deleteAccount(residentId: string, input: { password: string; confirm: boolean }, meta: RequestMeta): Promise<FormResult>;

  /** Forgets used one-time links once they have expired anyway. */
  purgeExpiredLinks(): Promise<number>;
  /** Two demo residents with a published password (idempotent). */
  seedDemo(): Promise<void>;
}

const current = new WeakMap<FastifyRequest, ResidentProfile>();

function toProfile(r: Resident): ResidentProfile {
  return {
    id: r.id,
    email: r.email,
    emailVerified: r.email_verified_at !== null,
    name: r.name,
    phone: r.phone,
    address: r.address,
    contactByEmail: r.contact_by_email,
    contactBySms: r.contact_by_sms,
    hasPassword: r.password_hash !== null,
    isDemo: r.is_demo,
    createdAt: r.created_at,
    lastSignInAt: r.last_sign_in_at,
  };
}

function passwordFingerprint(hash: string | null): string {
  return sha256Hex(hash ?? 'no password').slice(0, 16);
}

function formatAddress(a: Address): ResidentAddress {
  const first = a.houseName && a.houseNumber !== null ? [a.houseName, `${a.houseNumber} ${a.street}`] : [`${a.house} ${a.street}`];
  const lines = a.locality && a.locality !== a.town ? [...first, a.locality] : first;
  return { uprn: a.uprn, lines, town: a.town, postcode: a.postcode };
}

export function createResidentService(ctx: AccountContext): ResidentService {
  const { platform } = ctx;
  const { config, council } = platform;
  const profileOf = council.profile;
  const repo = createResidentRepository(platform.database.db);
  const secret = config.sessionSecret;
  const log = platform.logger.child({ component: 'residents' });

  const url = (path: string) => `${config.baseUrl}${path}`;
  const asDb = (tx: ResidentTx) => tx as unknown as Kysely<object>;
  const residentActor = (id: string): Actor => ({ type: 'resident', id });
  const anonymous: Actor = { type: 'anonymous' };

  async function audit(tx: ResidentTx, actor: Actor, action: string, residentId: string, meta: RequestMeta, details?: Record<string, unknown>): Promise<void> {
    await recordAudit(asDb(tx), {
      actor,
      action,
      subject: { type: 'resident', id: residentId },
      ...(details ? { details } : {}),
      ...(meta.requestId ? { requestId: meta.requestId } : {}),
    });
  }

  async function email(tx: ResidentTx, to: string, content: EmailContent, relatedId?: string): Promise<void> {
    await queueEmail(asDb(tx), { to, subject: content.subject, body: content.body, ...(relatedId ? { related: { type: 'resident', id: relatedId } } : {}) });
  }

  /** Wakes the notifier once the transaction that queued emails has committed. */
  function sent(): void {
    void ctx.notifier.nudge();
  }

  function makeLink(purpose: LinkPurpose, subject: string, data?: Record<string, unknown>): string {
    return signToken(secret, { purpose, subject, expiresAt: Date.now() + LINK_LIFETIMES[purpose], ...(data ? { data } : {}) });
  }

  const links = {
    confirm: (token: string) => url(`/account/confirm-email?token=${encodeURIComponent(token)}`),
    signIn: (token: string) => url(`/account/sign-in/link?token=${encodeURIComponent(token)}`),
    reset: (token: string) => url(`/account/reset-password?token=${encodeURIComponent(token)}`),
  };

  function readLink(
    purpose: LinkPurpose,
    token: string,
  ): { ok: true; subject: string; expiresAt: Date; data: Record<string, unknown>; hash: string } | { ok: false; reason: LinkProblem } {
    if (!token) return { ok: false, reason: 'invalid' };
    const result = verifyToken(secret, token, purpose);
    if (!result.ok) return { ok: false, reason: result.reason === 'expired' ? 'expired' : 'invalid' };
    return {
      ok: true,
      subject: result.payload.subject,
      expiresAt: result.payload.expiresAt,
      data: result.payload.data ?? {},
      hash: sha256Hex(`${purpose}:${token.trim()}`),
    };
  }

  const demoRefused = (r: Resident) => config.production && r.is_demo;

  async function confirmationLinkFor(r: Resident): Promise<string> {
    return links.confirm(makeLink('verify-email', r.id, { kind: 'register', email: r.email.toLowerCase() }));
  }

  async function exportFor(r: Resident, actor: Actor, meta: RequestMeta): Promise<Record<string, unknown>> {
    const activity: Record<string, unknown> = {};
    for (const provider of ctx.activity.all()) {
      activity[provider.heading] = provider.exportForResident ? await provider.exportForResident(r.id) : await provider.listForResident(r.id);
    }
    await repo.transaction((tx) => audit(tx, actor, 'account.data-exported', r.id, meta));
    return {
      exportedAt: new Date().toISOString(),
      council: profileOf.name,
      account: {
        id: r.id,
        email: r.email,
        emailConfirmedAt: r.email_verified_at,
        name: r.name,
        phone: r.phone,
        address: r.address,
        contactPreferences: { email: r.contact_by_email, textMessage: r.contact_by_sms },
        signsInWithPassword: r.password_hash !== null,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
        lastSignInAt: r.last_sign_in_at,
      },
      activity,
    };
  }

  const service: ResidentService = {
    async guard(request, reply) {
      const resident = await service.signedIn(request);
      if (!resident) {
        await redirectToSignIn(request, reply, SIGN_IN_PATH);
        return;
      }
      current.set(request, resident);
    },

    current(request) {
      const resident = current.get(request);
      if (!resident) throw new Error('current() called on a route without the resident guard');
      return resident;
    },

    async signedIn(request) {
      const id = request.session?.residentId;
      if (!id) return undefined;
      const r = await repo.byId(id);
      if (!r || demoRefused(r)) {
        request.session.residentId = undefined;
        return undefined;
      }
      return toProfile(r);
    },

    async profile(residentId) {
      const r = await repo.byId(residentId);
      return r ? toProfile(r) : undefined;
    },

    async register(input, meta) {
      const address = normaliseEmail(input.email);
      const errors: FieldErrors = {};
      const emailError = emailProblem(address);
      if (emailError) errors.email = emailError;
      const passwordError = checkNewPassword(input.password, { email: emailError ? undefined : address })[0];
      if (passwordError) errors.password = passwordError.message;
      if (!input.confirmPassword) errors.confirmPassword = 'Confirm your password';
      else if (!passwordError && input.confirmPassword !== input.password) errors.confirmPassword = 'Passwords must match';
      if (Object.keys(errors).length) return { ok: false, errors };

      const existing = await repo.byEmail(address);
      if (existing) {
        await repo.transaction(async (tx) => {
          const confirm = existing.email_verified_at ? undefined : await confirmationLinkFor(existing);
          await email(tx, existing.email, emails.alreadyRegistered(profileOf, url(SIGN_IN_PATH), url('/account/forgot-password'), confirm), existing.id);
          await audit(tx, anonymous, 'account.registration-repeated', existing.id, meta);
        });
        sent();
        return { ok: true, value: { email: address } };
      }

      const passwordHash = await hashPassword(input.password);
      try {
        await repo.transaction(async (tx) => {
          const r = await repo.insert(tx, { email: address, passwordHash });
          await audit(tx, anonymous, 'account.registered', r.id, meta);
          await email(tx, r.email, emails.confirmEmail(profileOf, await confirmationLinkFor(r)), r.id);
        });
      } catch (err) {
        // Registered by someone else at the same moment: the same answer as for any existing address.
        if ((err as { code?: string }).code !== '23505') throw err;
      }
      sent();
      return { ok: true, value: { email: address } };
    },

    async resendConfirmation(emailAddress) {
      const address = normaliseEmail(emailAddress);
      if (emailProblem(address)) return;
      const r = await repo.byEmail(address);
      if (!r || r.email_verified_at) return;
      await repo.transaction(async (tx) => {
        await email(tx, r.email, emails.confirmEmail(profileOf, await confirmationLinkFor(r)), r.id);
      });
      sent();
    },

    async checkLink(purpose, token) {
      const link = readLink(purpose, token);
      if (!link.ok) return link;
      if (await repo.linkUsed(link.hash)) return { ok: false, reason: 'used' };
      if (purpose === 'reset-password') {
        const r = await repo.byId(link.subject);
        if (!r || link.data.h !== passwordFingerprint(r.password_hash)) return { ok: false, reason: 'used' };
      }
      return { ok: true };
    },

    async confirmEmail(token, meta) {
      const link = readLink('verify-email', token);
      if (!link.ok) return link;
      const wanted = typeof link.data.email === 'string' ? link.data.email : '';
      const kind = link.data.kind === 'change' ? 'change' : 'register';
      try {
        return await repo.transaction(async (tx): Promise<ConfirmEmailResult> => {
          const r = await repo.byIdForUpdate(tx, link.subject);
          if (!r || !wanted) return { ok: false, reason: 'invalid' };
          if (kind === 'register') {
            if (r.email.toLowerCase() !== wanted) return { ok: false, reason: 'invalid' };
            if (r.email_verified_at) return { ok: true, residentId: r.id, kind: 'already-confirmed' };
            if (!(await repo.useLink(tx, link.hash, link.expiresAt))) return { ok: false, reason: 'used' };
            await repo.update(tx, r.id, { email_verified_at: new Date() });
            await audit(tx, residentActor(r.id), 'account.email-verified', r.id, meta);
            return { ok: true, residentId: r.id, kind: 'registered' };
          }
          if (!(await repo.useLink(tx, link.hash, link.expiresAt))) return { ok: false, reason: 'used' };
          if (r.email.toLowerCase() === wanted) return { ok: true, residentId: r.id, kind: 'already-confirmed' };
          const other = await repo.byEmail(wanted, tx);
          if (other) return { ok: false, reason: 'taken' };
          const oldAddress = r.email;
          await repo.update(tx, r.id, { email: wanted, email_verified_at: new Date() });
          await audit(tx, residentActor(r.id), 'account.email-changed', r.id, meta);
          await email(tx, oldAddress, emails.emailChanged(profileOf), r.id);
          return { ok: true, residentId: r.id, kind: 'changed' };
        });
      } catch (err) {
        if ((err as { code?: string }).code === '23505') return { ok: false, reason: 'taken' };
        throw err;
      } finally {
        sent();
      }
    },

    async signInWithPassword(input, meta) {
      const address = normaliseEmail(input.email);
      const errors: FieldErrors = {};
      const emailError = emailProblem(address);
      if (emailError) errors.email = emailError;
      if (!input.password) errors.password = 'Enter your password';
      if (Object.keys(errors).length) return { status: 'invalid', errors };
      const wrong: SignInResult = {
        status: 'invalid',
        errors: { email: 'Enter a correct email address and password', password: 'Enter a correct email address and password' },
      };

      const found = await repo.byEmail(address);
      if (!found || !found.password_hash) {
        await verifyPasswordForUnknownAccount(input.password);
        return wrong;
      }
      if (demoRefused(found)) return { status: 'demo-refused' };
      const now = Date.now();
      if (found.locked_until && found.locked_until.getTime() > now) {
        return { status: 'locked', minutes: Math.max(1, Math.ceil((found.locked_until.getTime() - now) / 60000)) };
      }
      if (found.failed_sign_ins > 0 && found.last_failed_sign_in_at && signInDelay(found.failed_sign_ins).lockedForMs === 0) {
        const allowedAt = nextSignInAllowedAt(found.failed_sign_ins, found.last_failed_sign_in_at).getTime();
        if (allowedAt > now) return { status: 'throttled', waitSeconds: Math.ceil((allowedAt - now) / 1000) };
      }

      const matches = await verifyPassword(found.password_hash, input.password);
      const rehash = matches && needsRehash(found.password_hash) ? await hashPassword(input.password) : undefined;
      const result = await repo.transaction(async (tx): Promise<SignInResult> => {
        const r = await repo.byIdForUpdate(tx, found.id);
        if (!r) return wrong;
        const at = new Date();
        if (!matches) {
          const failures = r.failed_sign_ins + 1;
          const { lockedForMs } = signInDelay(failures);
          const lockedUntil = lockedForMs > 0 ? new Date(at.getTime() + lockedForMs) : null;
          await repo.update(tx, r.id, { failed_sign_ins: failures, last_failed_sign_in_at: at, locked_until: lockedUntil });
          if (lockedUntil) {
            const minutes = Math.round(lockedForMs / 60000);
            if (failures === SIGN_IN_LOCKOUT_THRESHOLD) {
              await audit(tx, anonymous, 'account.sign-in-locked', r.id, meta, { failures, minutes });
              await email(tx, r.email, emails.locked(profileOf, minutes, url('/account/forgot-password')), r.id);
            }
            return { status: 'locked', minutes };
          }
          return wrong;
        }
        if (!r.email_verified_at) {
          await repo.update(tx, r.id, { failed_sign_ins: 0, locked_until: null, ...(rehash ? { password_hash: rehash } : {}) });
          return { status: 'unverified', email: r.email };
        }
        await repo.update(tx, r.id, { failed_sign_ins: 0, locked_until: null, last_sign_in_at: at, ...(rehash ? { password_hash: rehash } : {}) });
        await audit(tx, residentActor(r.id), 'account.signed-in', r.id, meta, { method: 'password' });
        return { status: 'signed-in', residentId: r.id };
      });
      if (result.status === 'locked') sent();
      return result;
    },

    async requestSignInLink(input) {
      const address = normaliseEmail(input.email);
      const emailError = emailProblem(address);
      if (emailError) return { ok: false, errors: { email: emailError } };
      const r = await repo.byEmail(address);
      if (r && !demoRefused(r)) {
        const returnTo = safeReturnTo(input.returnTo, ACCOUNT_HOME);
        await repo.transaction(async (tx) => {
          await email(tx, r.email, emails.signInLink(profileOf, links.signIn(makeLink('sign-in-link', r.id, { returnTo }))), r.id);
        });
        sent();
      }
      return { ok: true, value: { email: address } };
    },

    async signInWithLink(token, meta) {
      const link = readLink('sign-in-link', token);
      if (!link.ok) return link;
      return repo.transaction(async (tx): Promise<LinkSignInResult> => {
        const r = await repo.byIdForUpdate(tx, link.subject);
        if (!r) return { ok: false, reason: 'invalid' };
        if (demoRefused(r)) return { ok: false, reason: 'demo-refused' };
        if (!(await repo.useLink(tx, link.hash, link.expiresAt))) return { ok: false, reason: 'used' };
        const at = new Date();
        // The link proves the resident holds the email address.
        await repo.update(tx, r.id, {
          failed_sign_ins: 0,
          locked_until: null,
          last_sign_in_at: at,
          ...(r.email_verified_at ? {} : { email_verified_at: at }),
        });
        await audit(tx, residentActor(r.id), 'account.signed-in', r.id, meta, { method: 'email-link' });
        return { ok: true, residentId: r.id, returnTo: safeReturnTo(link.data.returnTo, ACCOUNT_HOME) };
      });
    },

    async requestPasswordReset(input) {
      const address = normaliseEmail(input.email);
      const emailError = emailProblem(address);
      if (emailError) return { ok: false, errors: { email: emailError } };
      const r = await repo.byEmail(address);
      if (r && !demoRefused(r)) {
        await repo.transaction(async (tx) => {
          const token = makeLink('reset-password', r.id, { h: passwordFingerprint(r.password_hash) });
          await email(tx, r.email, emails.resetPassword(profileOf, links.reset(token)), r.id);
        });
        sent();
      }
      return { ok: true, value: { email: address } };
    },

    async resetPassword(input, meta) {
      const link = readLink('reset-password', input.token);
      if (!link.ok) return link;
      const before = await repo.byId(link.subject);
      if (!before || link.data.h !== passwordFingerprint(before.password_hash)) return { ok: false, reason: 'used' };
      const errors: FieldErrors = {};
      const problem = checkNewPassword(input.password, { email: before.email, name: before.name ?? undefined })[0];
      if (problem) errors.password = problem.message;
      if (!input.confirmPassword) errors.confirmPassword = 'Confirm your new password';
      else if (!problem && input.confirmPassword !== input.password) errors.confirmPassword = 'Passwords must match';
      if (Object.keys(errors).length) return { ok: false, errors };
      const passwordHash = await hashPassword(input.password);
      const outcome = await repo.transaction(async (tx): Promise<FormResult | { ok: false; reason: LinkProblem }> => {
        const r = await repo.byIdForUpdate(tx, link.subject);
        if (!r || r.password_hash !== before.password_hash) return { ok: false, reason: 'used' };
        if (!(await repo.useLink(tx, link.hash, link.expiresAt))) return { ok: false, reason: 'used' };
        const at = new Date();
        await repo.update(tx, r.id, {
          password_hash: passwordHash,
          failed_sign_ins: 0,
          locked_until: null,
          ...(r.email_verified_at ? {} : { email_verified_at: at }),
        });
        await audit(tx, residentActor(r.id), 'account.password-reset', r.id, meta);
        await email(tx, r.email, emails.passwordChanged(profileOf, url('/account/forgot-password')), r.id);
        await destroyUserSessions(asDb(tx), 'resident', r.id);
        return { ok: true, value: undefined };
      });
      sent();
      return outcome;
    },

    async signOutEverywhere(residentId, meta) {
      return repo.transaction(async (tx) => {
        const ended = await destroyUserSessions(asDb(tx), 'resident', residentId);
        await audit(tx, residentActor(residentId), 'account.signed-out-everywhere', residentId, meta, { sessions: ended });
        return ended;
      });
    },

    async recordSignOut(residentId, meta) {
      await repo.transaction((tx) => audit(tx, residentActor(residentId), 'account.signed-out', residentId, meta));
    },

    async activity(residentId) {
      const sections: ActivitySection[] = [];
      for (const provider of ctx.activity.all()) {
        try {
          sections.push({ heading: provider.heading, items: await provider.listForResident(residentId) });
        } catch (err) {
          log.error({ err, heading: provider.heading }, 'an activity provider failed');
          throw err;
        }
      }
      return sections;
    },

    async updateDetails(residentId, input, meta) {
      const errors: FieldErrors = {};
      const name = input.name.trim().replace(/\s+/g, ' ');
      const phoneText = input.phone.trim();
      const byEmail = input.contact.includes('email');
      const bySms = input.contact.includes('sms');
      if (name.length > 200) errors.name = 'Full name must be 200 characters or fewer';
      let phone = phoneText ? parseUkPhone(phoneText) : undefined;
      if (phoneText && !phone) errors.phone = 'Enter a UK phone number, like 01632 960 001 or 07700 900 982';
      else if (bySms && !phone) errors.phone = 'Enter a mobile phone number to get text messages';
      else if (bySms && phone && !phone.mobile) errors.phone = 'Enter a mobile phone number to get text messages, like 07700 900 982';
      if (Object.keys(errors).length) return { ok: false, errors };
      if (!phoneText) phone = undefined;
      await repo.transaction(async (tx) => {
        await repo.update(tx, residentId, { name: name || null, phone: phone ? phoneText : null, contact_by_email: byEmail, contact_by_sms: bySms });
        await audit(tx, residentActor(residentId), 'account.details-changed', residentId, meta, { fields: ['name', 'phone', 'contact'] });
      });
      return { ok: true, value: undefined };
    },

    async findAddresses(postcode) {
      const normal = normalisePostcode(postcode);
      if (!normal) return { ok: false, errors: { postcode: postcodeProblem(postcode) ?? 'Enter a real postcode' } };
      const addresses = await ctx.geo.lookupPostcode(normal);
      return { ok: true, postcode: normal, addresses };
    },

    async chooseAddress(residentId, input, meta) {
      const lookup = await service.findAddresses(input.postcode);
      if (!lookup.ok) return lookup;
      const chosen = input.uprn ? lookup.addresses.find((a) => a.uprn === input.uprn) : undefined;
      if (!chosen) return { ok: false, errors: { uprn: 'Select an address' } };
      await repo.transaction(async (tx) => {
        await repo.update(tx, residentId, { address: formatAddress(chosen) });
        await audit(tx, residentActor(residentId), 'account.address-changed', residentId, meta, { source: 'gazetteer', uprn: chosen.uprn });
      });
      return { ok: true, value: undefined };
    },

    async setManualAddress(residentId, input, meta) {
      const errors: FieldErrors = {};
      const line1 = input.addressLine1.trim();
      const line2 = input.addressLine2.trim();
      const town = input.town.trim();
      if (!line1) errors.addressLine1 = 'Enter address line 1, typically the building and street';
      else if (line1.length > 200) errors.addressLine1 = 'Address line 1 must be 200 characters or fewer';
      if (line2.length > 200) errors.addressLine2 = 'Address line 2 must be 200 characters or fewer';
      if (!town) errors.town = 'Enter town or city';
      else if (town.length > 100) errors.town = 'Town or city must be 100 characters or fewer';
      const postcode = normalisePostcode(input.postcode);
      if (!postcode) errors.postcode = postcodeProblem(input.postcode) ?? 'Enter a real postcode';
      if (Object.keys(errors).length || !postcode) return { ok: false, errors };
      const address: ResidentAddress = { lines: [line1, ...(line2 ? [line2] : [])], town, postcode };
      await repo.transaction(async (tx) => {
        await repo.update(tx, residentId, { address });
        await audit(tx, residentActor(residentId), 'account.address-changed', residentId, meta, { source: 'manual' });
      });
      return { ok: true, value: undefined };
    },

    async requestEmailChange(residentId, input, meta) {
      const r = await repo.byId(residentId);
      if (!r) return { ok: false, errors: { email: 'Your account could not be found' } };
      const address = normaliseEmail(input.email);
      const errors: FieldErrors = {};
      const emailError = emailProblem(address, 'Enter your new email address');
      if (emailError) errors.email = emailError;
      else if (address.toLowerCase() === r.email.toLowerCase()) errors.email = 'Enter a different email address from the one you use now';
      if (r.password_hash) {
        if (!input.password) errors.password = 'Enter your password';
        else if (!(await verifyPassword(r.password_hash, input.password))) errors.password = 'Your password is incorrect';
      }
      if (Object.keys(errors).length) return { ok: false, errors };
      const taken = await repo.byEmail(address);
      await repo.transaction(async (tx) => {
        if (taken) await email(tx, address, emails.newEmailTaken(profileOf));
        else {
          const token = makeLink('verify-email', r.id, { kind: 'change', email: address.toLowerCase() });
          await email(tx, address, emails.confirmNewEmail(profileOf, links.confirm(token)), r.id);
        }
        await audit(tx, residentActor(r.id), 'account.email-change-requested', r.id, meta);
      });
      sent();
      return { ok: true, value: { email: address } };
    },

    async changePassword(residentId, input, meta) {
      const r = await repo.byId(residentId);
      if (!r) return { ok: false, errors: { currentPassword: 'Your account could not be found' } };
      const errors: FieldErrors = {};
      if (r.password_hash) {
        if (!input.currentPassword) errors.currentPassword = 'Enter your current password';
        else if (!(await verifyPassword(r.password_hash, input.currentPassword))) errors.currentPassword = 'Your current password is incorrect';
      }
      const problem = checkNewPassword(input.password, { email: r.email, name: r.name ?? undefined })[0];
      if (problem) errors.password = problem.message;
      else if (r.password_hash && input.password === input.currentPassword) errors.password = 'Your new password must be different from your current password';
      if (!input.confirmPassword) errors.confirmPassword = 'Confirm your new password';
      else if (!problem && input.confirmPassword !== input.password) errors.confirmPassword = 'Passwords must match';
      if (Object.keys(errors).length) return { ok: false, errors };
      const passwordHash = await hashPassword(input.password);
      await repo.transaction(async (tx) => {
        await repo.update(tx, r.id, { password_hash: passwordHash, failed_sign_ins: 0, locked_until: null });
        await audit(tx, residentActor(r.id), 'account.password-changed', r.id, meta);
        await email(tx, r.email, emails.passwordChanged(profileOf, url('/account/forgot-password')), r.id);
        await destroyUserSessions(asDb(tx), 'resident', r.id, meta.sessionId);
      });
      sent();
      return { ok: true, value: undefined };
    },

    async exportData(residentId, meta) {
      const r = await repo.byId(residentId);
      if (!r) throw new Error('resident not found');
      return exportFor(r, residentActor(residentId), meta);
    },

    async exportByEmail(emailAddress) {
      const r = await repo.byEmail(normaliseEmail(emailAddress));
      if (!r) return undefined;
      return exportFor(r, { type: 'system', label: 'command line' }, {});
    },

    async deleteAccount(residentId, input, meta): Promise<FormResult> {
      const r = await repo.byId(residentId);
      if (!r) return { ok: false, errors: { password: 'Your account could not be found' } };
      if (r.password_hash) {
        if (!input.password) return { ok: false, errors: { password: 'Enter your password' } };
        if (!(await verifyPassword(r.password_hash, input.password))) return { ok: false, errors: { password: 'Your password is incorrect' } };
      } else if (!input.confirm) {
        return { ok: false, errors: { confirm: 'Select that you understand your account will be deleted' } };
      }
      for (const provider of ctx.activity.all()) await provider.onResidentDeleted?.(residentId);
      await repo.transaction(async (tx) => {
        await audit(tx, residentActor(r.id), 'account.deleted', r.id, meta);
        await email(tx, r.email, emails.accountDeleted(profileOf), r.id);
        await destroyUserSessions(asDb(tx), 'resident', r.id);
        await repo.remove(tx, r.id);
      });
      sent();
      return { ok: true, value: undefined };
    },

    purgeExpiredLinks() {
      return repo.purgeExpiredLinks();
    },

    async seedDemo() {
      if (config.production) throw new Error('Demo residents are never created in production');
      const demo = ctx.platform.council.demoUsers?.residents;
      if (!demo) return;
      let addresses: Address[] = [];
      try {
        addresses = await ctx.geo.searchAddresses(`${profileOf.postcode.area}1`, demo.people.length);
      } catch (err) {
        log.warn({ err }, 'no gazetteer for the demo residents');
      }
      const passwordHash = await hashPassword(demo.password);
      for (const [index, person] of demo.people.entries()) {
        const chosen = addresses[index];
        await repo.transaction(async (tx) => {
          const existing = await repo.byEmail(person.email, tx);
          if (existing) {
            if (!existing.address && chosen) await repo.update(tx, existing.id, { address: formatAddress(chosen) });
            return;
          }
          const r = await repo.insert(tx, {
            email: person.email,
            passwordHash,
            verified: true,
            isDemo: true,
            name: person.name,
            phone: person.phone ?? null,
            address: chosen ? formatAddress(chosen) : null,
          });
          await recordAudit(asDb(tx), { actor: { type: 'system' }, action: 'account.demo-resident-created', subject: { type: 'resident', id: r.id } });
        });
      }
    },
  };
  return service;
}
