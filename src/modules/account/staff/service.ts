import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Selectable } from 'kysely';
import { recordAudit, searchAudit, type Actor, type AuditEventsTable, type AuditSearch } from '#platform/audit/index';
import { HttpError } from '#platform/http/errors';
import { destroyUserSessions } from '#platform/http/session-store';
import { queueEmail, type ListMessagesOptions, type MessageSummary, type StoredMessage } from '#platform/notify/index';
import type { NavItem } from '#platform/platform';
import { hashPassword, nextSignInAllowedAt, signInDelay, verifyPassword, verifyPasswordForUnknownAccount } from '#platform/security/passwords';
import { sha256Hex, signToken, verifyToken } from '#platform/security/tokens';
import { isSealed, seal, sealingKey, unseal } from '#platform/security/sealed';
import { verifyTotp } from '#platform/security/totp';
import type { AccountContext } from '../index.js';
import { assertCan, can, isRole, permissionsFor, PERMISSIONS, ROLES, type Permission, type Role } from '../permissions.js';
import { redirectToSignIn } from '../session.js';
import { createOidcSignIn, type OidcIdentity, type OidcSignIn } from './oidc.js';
import { StaffRepository, type StaffFilter, type StaffStatus, type StaffUserRow, type TeamRow } from './repository.js';

/** A signed-in member of staff, as the rest of the platform sees them. */
export interface StaffMember {
  id: string;
  email: string;
  name: string;
  roles: Role[];
  teams: string[];
  status: StaffStatus;
  permissions: Permission[];
  isDemo: boolean;
  usesSingleSignOn: boolean;
}

/** A row in the staff users list. */
export interface StaffUserSummary extends StaffMember {
  mfaEnrolled: boolean;
  lastSignInAt: Date | null;
  createdAt: Date;
}

export interface StaffNavigationItem extends NavItem {
  permission?: Permission;
}

export interface InviteInput {
  email: string;
  name: string;
  roles: string[];
  teams: string[];
}

export type PasswordCheck =
  | { ok: true; userId: string; next: 'code' | 'enrol' }
  | { ok: false; reason: 'invalid' | 'locked' | 'wait' | 'disabled' | 'demo-refused'; retryAfterSeconds?: number };

export type CodeCheck = { ok: true } | { ok: false; reason: 'invalid' | 'locked' | 'wait' | 'refused'; retryAfterSeconds?: number };

export type InvitationCheck =
  { ok: true; userId: string; name: string; email: string; tokenHash: string; expiresAt: number } | { ok: false; reason: 'invalid' | 'expired' | 'used' };

export type OidcOutcome = { ok: true; userId: string } | { ok: false; reason: 'unknown' | 'disabled' | 'unverified' | 'demo-refused' };

export interface StaffService {
  /** A route guard: signed-in, active staff, holding the permission when one is given. */
  guard(permission?: Permission): preHandlerAsyncHookHandler;
  /** The staff member signed in on this request, if any (active only). */
  current(request: FastifyRequest): Promise<StaffMember | null>;
  can(member: StaffMember | null | undefined, permission: Permission): boolean;
  /** A member of staff by ID or email, whatever their status (for showing who did something). */
  findMember(id: string): Promise<StaffMember | null>;
  findMemberByEmail(email: string): Promise<StaffMember | null>;
  /** Active members of a team, optionally holding a role (for assigning work and sending team summaries). */
  teamMembers(team: string, role?: Role): Promise<StaffMember[]>;
  /** Adds a link to the staff navigation, shown to those holding the permission. */
  addNavigation(item: StaffNavigationItem): void;
  navigationFor(member: StaffMember | null, currentPath: string): NavItem[];

  /** Demo teams and one demo user per role (development only; idempotent). */
  /** Brings the teams table in line with the council's teams.json (run at every start). */
  syncTeams(): Promise<void>;
  seedDemo(): Promise<void>;
  /** From the command line: creates an invited staff user and returns their invitation link. */
  createStaffUser(input: InviteInput): Promise<string>;
  /** From the command line: removes a staff user's authenticator so they set one up at next sign-in. */
  resetMfa(email: string): Promise<void>;

  // Signing in
  checkPassword(email: string, password: string): Promise<PasswordCheck>;
  checkCode(userId: string, code: string): Promise<CodeCheck>;
  completeEnrolment(userId: string, secret: string, code: string): Promise<CodeCheck>;
  openInvitation(token: string): Promise<InvitationCheck>;
  acceptInvitation(
    invitation: { userId: string; tokenHash: string; expiresAt: number },
    password: string,
  ): Promise<{ ok: true } | { ok: false; reason: 'used' | 'invalid' }>;
  findForSignIn(userId: string): Promise<{ id: string; email: string; name: string } | undefined>;
  signOut(request: FastifyRequest): Promise<void>;
  oidc(): OidcSignIn | undefined;
  signInWithOidc(identity: OidcIdentity): Promise<OidcOutcome>;

  // Administration (staff:manage)
  listStaff(actor: StaffMember, filter?: StaffFilter): Promise<StaffUserSummary[]>;
  getStaff(actor: StaffMember, id: string): Promise<StaffUserSummary>;
  invite(actor: StaffMember, input: InviteInput): Promise<{ id: string; link: string }>;
  updateAccess(actor: StaffMember, id: string, access: { roles: string[]; teams: string[] }): Promise<void>;
  setStatus(actor: StaffMember, id: string, status: 'active' | 'disabled'): Promise<void>;
  resetMfaFor(actor: StaffMember, id: string): Promise<void>;
  /** Sends a new invitation link to someone who has not finished setting up; earlier links still work until they expire or one is used. */
  resendInvitation(actor: StaffMember, id: string): Promise<void>;
  teams(): Promise<TeamRow[]>;

  // Messages the platform sent or queued (messages:read; never in production)
  listMessages(actor: StaffMember, options?: ListMessagesOptions): Promise<MessageSummary[]>;
  getMessage(actor: StaffMember, id: string): Promise<StoredMessage>;

  // Audit log (audit:read)
  searchAudit(actor: StaffMember, query: AuditSearch): Promise<{ rows: Selectable<AuditEventsTable>[]; total: number; page: number; pageSize: number }>;
}

export const INVITATION_DAYS = 7;
const INVITATION_PURPOSE = 'staff-invitation';

const STAFF_SUBJECT = 'staff-user';

function toMember(row: StaffUserRow): StaffMember {
  const roles = row.roles.filter(isRole);
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    roles,
    teams: row.teams,
    status: row.status,
    permissions: PERMISSIONS.filter((p) => permissionsFor(roles).has(p)),
    isDemo: row.is_demo,
    usesSingleSignOn: Boolean(row.oidc_subject),
  };
}

function toSummary(row: StaffUserRow): StaffUserSummary {
  return { ...toMember(row), mfaEnrolled: Boolean(row.totp_enrolled_at), lastSignInAt: row.last_sign_in_at, createdAt: row.created_at };
}

function actorOf(member: StaffMember): Actor {
  return { type: 'staff', id: member.id, label: member.name };
}

const SYSTEM: Actor = { type: 'system', label: 'Command line' };

function secondsUntil(at: Date, now: Date): number {
  return Math.max(1, Math.ceil((at.getTime() - now.getTime()) / 1000));
}

function setLocals(reply: FastifyReply, values: Record<string, unknown>): void {
  const r = reply as FastifyReply & { locals?: Record<string, unknown> };
  r.locals = { ...r.locals, ...values };
}

export function createStaffService(ctx: AccountContext): StaffService {
  const { config } = ctx.platform;
  const repo = new StaffRepository(ctx.platform.database.db);
  const tokenSecret = config.sessionSecret;
  // Authenticator secrets are sealed at rest; one stored before sealing is sealed at its next use.
  const totpKey = sealingKey(config.sessionSecret, 'staff-totp');
  const totpSecretOf = (stored: string) => (isSealed(stored) ? unseal(totpKey, stored) : stored);
  const resolved = new WeakMap<FastifyRequest, StaffMember | null>();
  const navigation: StaffNavigationItem[] = [
    { href: '/staff', text: 'Home' },
    { href: '/staff/users', text: 'Users', permission: 'staff:manage' },
    { href: '/staff/audit', text: 'Audit log', permission: 'audit:read' },
    ...(config.production ? [] : [{ href: '/staff/messages', text: 'Messages', permission: 'messages:read' as Permission }]),
  ];
  let oidcSignIn: OidcSignIn | undefined;

  /** Demo users have published passwords, so they can never sign in to a production service. */
  const refusedAsDemo = (row: StaffUserRow) => config.production && row.is_demo;

  function invitationLink(userId: string): string {
    const token = signToken(tokenSecret, { purpose: INVITATION_PURPOSE, subject: userId, expiresAt: Date.now() + INVITATION_DAYS * 86400_000 });
    return `${config.baseUrl}/staff/invitation?token=${token}`;
  }

  async function queueInvitation(
    tx: Parameters<typeof recordAudit>[0],
    user: { id: string; email: string; name: string },
    link: string,
    invitedBy: string,
  ): Promise<void> {
    const council = ctx.platform.council.profile;
    await queueEmail(tx, {
      to: user.email,
      subject: `You have been invited to ${council.shortName} staff services`,
      body: [
        `Dear ${user.name},`,
        '',
        `${invitedBy} has invited you to sign in to ${council.shortName} staff services.`,
        '',
        'To accept, open this link, choose a password and set up an authenticator app on your phone:',
        '',
        link,
        '',
        `The link works once and expires in ${INVITATION_DAYS} days. If you were not expecting this email, you can ignore it.`,
        '',
        council.name,
      ].join('\n'),
      related: { type: STAFF_SUBJECT, id: user.id },
    });
  }

  function validateAccess(roles: string[], teams: string[], known: TeamRow[]): { roles: Role[]; teams: string[] } {
    const validRoles = [...new Set(roles)].filter(isRole);
    if (validRoles.length !== new Set(roles).size || validRoles.length === 0) throw new HttpError(400, 'Choose at least one role from the list.');
    const codes = new Set(known.map((t) => t.code));
    const validTeams = [...new Set(teams)];
    if (validTeams.some((t) => !codes.has(t))) throw new HttpError(400, 'Choose teams from the list.');
    return { roles: validRoles, teams: validTeams };
  }

  async function createInvited(actor: Actor, invitedById: string | null, input: InviteInput): Promise<{ id: string; link: string }> {
    const email = input.email.trim().toLowerCase();
    const name = input.name.trim();
    if (!name) throw new HttpError(400, 'Enter the staff member’s name.');
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new HttpError(400, 'Enter an email address in the correct format, like name@example.gov.uk');
    const access = validateAccess(input.roles, input.teams, await repo.teams());
    const created = await repo.transaction(async (r, tx) => {
      if (await r.findByEmail(email)) throw new HttpError(409, 'There is already a staff user with that email address.');
      const row = await r.insert({ email, name, roles: access.roles, teams: access.teams, status: 'invited', invitedBy: invitedById });
      const link = invitationLink(row.id);
      await queueInvitation(tx, { id: row.id, email, name }, link, actor.label ?? ctx.platform.council.profile.shortName);
      await recordAudit(tx, {
        actor,
        action: 'staff.invited',
        subject: { type: STAFF_SUBJECT, id: row.id },
        details: { roles: access.roles, teams: access.teams },
      });
      return { id: row.id, link };
    });
    await ctx.notifier.nudge();
    return created;
  }

  /** Counts a failed sign-in step and locks the account once there have been too many. */
  async function recordFailure(row: StaffUserRow, stage: 'password' | 'code'): Promise<number> {
    const now = new Date();
    const failures = row.failed_sign_ins + 1;
    const { lockedForMs } = signInDelay(failures);
    const lockedUntil = lockedForMs > 0 ? new Date(now.getTime() + lockedForMs) : null;
    await repo.transaction(async (r, tx) => {
      await r.recordFailure(row.id, failures, now, lockedUntil);
      await recordAudit(tx, {
        actor: { type: 'anonymous' },
        action: lockedUntil ? 'staff.locked-out' : 'staff.sign-in-failed',
        subject: { type: STAFF_SUBJECT, id: row.id },
        details: { stage, failures },
      });
    });
    return lockedForMs;
  }

  function failed(lockedForMs: number): { ok: false; reason: 'locked' | 'invalid'; retryAfterSeconds?: number } {
    return lockedForMs > 0 ? { ok: false, reason: 'locked', retryAfterSeconds: Math.ceil(lockedForMs / 1000) } : { ok: false, reason: 'invalid' };
  }

  /** Refuses an attempt while the account is locked or inside its back-off delay. */
  function throttled(row: StaffUserRow, now: Date): { reason: 'locked' | 'wait'; retryAfterSeconds: number } | undefined {
    if (row.locked_until && row.locked_until > now) return { reason: 'locked', retryAfterSeconds: secondsUntil(row.locked_until, now) };
    if (row.last_failed_sign_in_at && row.failed_sign_ins > 0) {
      const next = nextSignInAllowedAt(row.failed_sign_ins, row.last_failed_sign_in_at);
      if (next > now) return { reason: 'wait', retryAfterSeconds: secondsUntil(next, now) };
    }
    return undefined;
  }

  async function recordSignedIn(row: StaffUserRow, method: 'password' | 'oidc', changes: { status?: StaffStatus; oidcSubject?: string } = {}): Promise<void> {
    await repo.transaction(async (r, tx) => {
      await r.recordSignIn(row.id, new Date(), changes);
      await recordAudit(tx, {
        actor: { type: 'staff', id: row.id, label: row.name },
        action: 'staff.signed-in',
        subject: { type: STAFF_SUBJECT, id: row.id },
        details: { method, ...(changes.status ? { activated: true } : {}), ...(changes.oidcSubject ? { linkedSingleSignOn: true } : {}) },
      });
    });
  }

  async function loadTarget(id: string): Promise<StaffUserRow> {
    const row = await repo.findById(id);
    if (!row) throw new HttpError(404, 'Staff user not found');
    return row;
  }

  async function resetMfaRow(actor: Actor, row: StaffUserRow): Promise<void> {
    await repo.transaction(async (r, tx) => {
      await r.clearTotp(row.id);
      await recordAudit(tx, { actor, action: 'staff.mfa-reset', subject: { type: STAFF_SUBJECT, id: row.id } });
    });
    await destroyUserSessions(ctx.platform.database.db, 'staff', row.id);
  }

  const service: StaffService = {
    guard(permission) {
      return async (request, reply) => {
        const member = await service.current(request);
        setLocals(reply, { staffNavigation: service.navigationFor(member, request.url.split('?')[0] ?? ''), staffMember: member });
        if (!member) {
          redirectToSignIn(request, reply, '/staff/sign-in');
          return reply;
        }
        if (permission) assertCan(member, permission);
        return undefined;
      };
    },

    async current(request) {
      if (resolved.has(request)) return resolved.get(request) ?? null;
      const id = request.session?.staffId;
      let member: StaffMember | null = null;
      if (id) {
        const row = await repo.findById(id);
        if (row && row.status === 'active' && !refusedAsDemo(row)) member = toMember(row);
        else {
          // A disabled (or removed) member's staff sign-in ends here, not just refused.
          request.session.staffId = undefined;
        }
      }
      resolved.set(request, member);
      return member;
    },

    can(member, permission) {
      return can(member, permission);
    },

    async findMember(id) {
      const row = await repo.findById(id);
      return row ? toMember(row) : null;
    },

    async teamMembers(team, role) {
      const rows = await repo.list({ team, status: 'active', ...(role ? { role } : {}) });
      return rows.filter((row) => !refusedAsDemo(row)).map(toMember);
    },
    async findMemberByEmail(email) {
      const row = await repo.findByEmail(email);
      return row ? toMember(row) : null;
    },

    addNavigation(item) {
      navigation.push(item);
    },

    navigationFor(member, currentPath) {
      if (!member) return [];
      return navigation
        .filter((n) => !n.permission || can(member, n.permission))
        .map((n) => ({ href: n.href, text: n.text, active: n.href === '/staff' ? currentPath === '/staff' : currentPath.startsWith(n.href) }));
    },

    async syncTeams() {
      for (const team of ctx.platform.council.teams) await repo.upsertTeam(team.code, team.name);
    },

    async seedDemo() {
      const demo = ctx.platform.council.demoUsers?.staff;
      if (!demo) return;
      // Shared by every demo staff user so one authenticator entry signs in as any of them.
      const roles = Object.keys(ROLES) as Role[];
      const missing: Role[] = [];
      for (const role of roles) if (!(await repo.findByEmail(`${role}@${demo.emailDomain}`))) missing.push(role);
      if (missing.length === 0) return;
      const passwordHash = await hashPassword(demo.password);
      for (const role of missing) {
        await repo.insertIfAbsent({
          email: `${role}@${demo.emailDomain}`,
          name: `Demo ${ROLES[role].toLowerCase()}`,
          roles: [role],
          teams: demo.teamsByRole[role] ?? [],
          status: 'active',
          passwordHash,
          totpSecret: seal(totpKey, demo.totpSecret),
          isDemo: true,
        });
      }
    },

    async createStaffUser(input) {
      const { link } = await createInvited(SYSTEM, null, input);
      return link;
    },

    async resetMfa(email) {
      const row = await repo.findByEmail(email);
      if (!row) throw new HttpError(404, `No staff user has the email address ${email}`);
      await resetMfaRow(SYSTEM, row);
    },

    async checkPassword(email, password) {
      const row = email.trim() ? await repo.findByEmail(email.trim()) : undefined;
      if (!row || !row.password_hash) {
        await verifyPasswordForUnknownAccount(password);
        return { ok: false, reason: 'invalid' };
      }
      const now = new Date();
      const wait = throttled(row, now);
      if (wait) return { ok: false, ...wait };
      if (!(await verifyPassword(row.password_hash, password))) {
        return failed(await recordFailure(row, 'password'));
      }
      if (row.status === 'disabled') return { ok: false, reason: 'disabled' };
      if (refusedAsDemo(row)) return { ok: false, reason: 'demo-refused' };
      return { ok: true, userId: row.id, next: row.totp_secret && row.totp_enrolled_at ? 'code' : 'enrol' };
    },

    async checkCode(userId, code) {
      const row = await repo.findById(userId);
      if (!row || row.status === 'disabled' || refusedAsDemo(row) || !row.totp_secret) return { ok: false, reason: 'refused' };
      const now = new Date();
      const wait = throttled(row, now);
      if (wait) return { ok: false, ...wait };
      const secret = totpSecretOf(row.totp_secret);
      const step = verifyTotp(secret, code, { lastUsedStep: row.totp_last_step });
      if (step === null || !(await repo.claimTotpStep(row.id, step))) {
        return failed(await recordFailure(row, 'code'));
      }
      if (!isSealed(row.totp_secret)) await repo.sealTotp(row.id, row.totp_secret, seal(totpKey, secret));
      await recordSignedIn(row, 'password', row.status === 'invited' ? { status: 'active' } : {});
      return { ok: true };
    },

    async completeEnrolment(userId, secret, code) {
      const row = await repo.findById(userId);
      if (!row || row.status === 'disabled' || refusedAsDemo(row) || !row.password_hash) return { ok: false, reason: 'refused' };
      const now = new Date();
      const wait = throttled(row, now);
      if (wait) return { ok: false, ...wait };
      const step = verifyTotp(secret, code);
      if (step === null) {
        return failed(await recordFailure(row, 'code'));
      }
      await repo.transaction(async (r, tx) => {
        await r.enrolTotp(row.id, seal(totpKey, secret), step);
        await recordAudit(tx, {
          actor: { type: 'staff', id: row.id, label: row.name },
          action: 'staff.mfa-enrolled',
          subject: { type: STAFF_SUBJECT, id: row.id },
        });
      });
      await recordSignedIn(row, 'password', row.status === 'invited' ? { status: 'active' } : {});
      return { ok: true };
    },

    async openInvitation(token) {
      const result = verifyToken(tokenSecret, token, INVITATION_PURPOSE);
      if (!result.ok) return { ok: false, reason: result.reason === 'expired' ? 'expired' : 'invalid' };
      const tokenHash = sha256Hex(token);
      if (await repo.linkTokenUsed(tokenHash)) return { ok: false, reason: 'used' };
      const row = await repo.findById(result.payload.subject);
      if (!row) return { ok: false, reason: 'invalid' };
      if (row.status !== 'invited') return { ok: false, reason: 'used' };
      return { ok: true, userId: row.id, name: row.name, email: row.email, tokenHash, expiresAt: result.payload.expiresAt.getTime() };
    },

    async acceptInvitation(invitation, password) {
      const row = await repo.findById(invitation.userId);
      if (!row || row.status !== 'invited' || invitation.expiresAt <= Date.now()) return { ok: false, reason: 'invalid' };
      const passwordHash = await hashPassword(password);
      return repo.transaction(async (r, tx) => {
        if (!(await r.useLinkToken(invitation.tokenHash, new Date(invitation.expiresAt)))) return { ok: false, reason: 'used' } as const;
        await r.setPassword(row.id, passwordHash);
        await r.clearTotp(row.id);
        await recordAudit(tx, {
          actor: { type: 'staff', id: row.id, label: row.name },
          action: 'staff.invitation-accepted',
          subject: { type: STAFF_SUBJECT, id: row.id },
        });
        return { ok: true } as const;
      });
    },

    async findForSignIn(userId) {
      const row = await repo.findById(userId);
      return row ? { id: row.id, email: row.email, name: row.name } : undefined;
    },

    async signOut(request) {
      const member = await service.current(request);
      if (member) {
        await repo.transaction(async (_r, tx) => {
          await recordAudit(tx, { actor: actorOf(member), action: 'staff.signed-out', subject: { type: STAFF_SUBJECT, id: member.id }, requestId: request.id });
        });
      }
      // A resident signed in on the same browser stays signed in.
      await request.session.regenerate(['residentId']);
    },

    oidc() {
      if (!config.oidc) return undefined;
      oidcSignIn ??= createOidcSignIn(config.oidc, `${config.baseUrl}/staff/sign-in/oidc/callback`);
      return oidcSignIn;
    },

    async signInWithOidc(identity) {
      let row = await repo.findByOidcSubject(identity.subject);
      let link: string | undefined;
      if (!row) {
        if (!identity.email) return { ok: false, reason: 'unknown' };
        const byEmail = await repo.findByEmail(identity.email);
        if (!byEmail || byEmail.oidc_subject) return { ok: false, reason: 'unknown' };
        if (!identity.emailVerified) return { ok: false, reason: 'unverified' };
        row = byEmail;
        link = identity.subject;
      }
      if (row.status === 'disabled') return { ok: false, reason: 'disabled' };
      if (refusedAsDemo(row)) return { ok: false, reason: 'demo-refused' };
      await recordSignedIn(row, 'oidc', { ...(row.status === 'invited' ? { status: 'active' as const } : {}), ...(link ? { oidcSubject: link } : {}) });
      return { ok: true, userId: row.id };
    },

    async listStaff(actor, filter = {}) {
      assertCan(actor, 'staff:manage');
      return (await repo.list(filter)).map(toSummary);
    },

    async getStaff(actor, id) {
      assertCan(actor, 'staff:manage');
      return toSummary(await loadTarget(id));
    },

    async invite(actor, input) {
      assertCan(actor, 'staff:manage');
      return createInvited(actorOf(actor), actor.id, input);
    },

    async updateAccess(actor, id, access) {
      assertCan(actor, 'staff:manage');
      const row = await loadTarget(id);
      const next = validateAccess(access.roles, access.teams, await repo.teams());
      if (row.id === actor.id && row.roles.includes('administrator') && !next.roles.includes('administrator'))
        throw new HttpError(409, 'You cannot remove your own administrator role. Ask another administrator.');
      const changes: Record<string, unknown> = {};
      const same = (a: string[], b: string[]) => a.length === b.length && [...a].sort().join() === [...b].sort().join();
      if (!same(row.roles, next.roles)) changes.roles = { from: row.roles, to: next.roles };
      if (!same(row.teams, next.teams)) changes.teams = { from: row.teams, to: next.teams };
      if (Object.keys(changes).length === 0) return;
      await repo.transaction(async (r, tx) => {
        await r.updateAccess(row.id, next.roles, next.teams);
        await recordAudit(tx, { actor: actorOf(actor), action: 'staff.access-changed', subject: { type: STAFF_SUBJECT, id: row.id }, details: changes });
      });
    },

    async setStatus(actor, id, status) {
      assertCan(actor, 'staff:manage');
      const row = await loadTarget(id);
      if (row.id === actor.id) throw new HttpError(409, 'You cannot disable or enable your own account.');
      if (status === 'active' && row.status !== 'disabled') return;
      if (status === 'disabled' && row.status === 'disabled') return;
      // An enabled account goes back to "invited" if it never finished setting up.
      const next: StaffStatus = status === 'disabled' ? 'disabled' : row.password_hash || row.oidc_subject ? 'active' : 'invited';
      await repo.transaction(async (r, tx) => {
        await r.setStatus(row.id, next);
        await recordAudit(tx, {
          actor: actorOf(actor),
          action: status === 'disabled' ? 'staff.disabled' : 'staff.enabled',
          subject: { type: STAFF_SUBJECT, id: row.id },
          details: { status: { from: row.status, to: next } },
        });
      });
      if (status === 'disabled') await destroyUserSessions(ctx.platform.database.db, 'staff', row.id);
    },

    async resendInvitation(actor, id) {
      assertCan(actor, 'staff:manage');
      const row = await loadTarget(id);
      if (row.status !== 'invited') throw new HttpError(409, `${row.name} has already set up their account, so there is no invitation to send again.`);
      await repo.transaction(async (_r, tx) => {
        await queueInvitation(tx, { id: row.id, email: row.email, name: row.name }, invitationLink(row.id), actor.name);
        await recordAudit(tx, { actor: actorOf(actor), action: 'staff.invitation-resent', subject: { type: STAFF_SUBJECT, id: row.id } });
      });
      await ctx.notifier.nudge();
    },

    async resetMfaFor(actor, id) {
      assertCan(actor, 'staff:manage');
      await resetMfaRow(actorOf(actor), await loadTarget(id));
    },

    async teams() {
      return repo.teams();
    },

    async listMessages(actor, options = {}) {
      assertCan(actor, 'messages:read');
      if (config.production) throw new HttpError(404, 'Page not found');
      return ctx.notifier.listMessages({ limit: 100, ...options });
    },

    async getMessage(actor, id) {
      assertCan(actor, 'messages:read');
      if (config.production) throw new HttpError(404, 'Page not found');
      const message = await ctx.notifier.getMessage(id);
      if (!message) throw new HttpError(404, 'Page not found');
      return message;
    },

    async searchAudit(actor, query) {
      assertCan(actor, 'audit:read');
      return searchAudit(ctx.platform.database.db, query);
    },
  };
  return service;
}
