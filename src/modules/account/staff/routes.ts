import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { z } from 'zod';
import { HttpError } from '#platform/http/errors';
import { checkNewPassword } from '#platform/security/passwords';
import { generateTotpSecret, totpUri } from '#platform/security/totp';
import { errorSummary } from '#platform/views/index';
import type { AccountContext } from '../index.js';
import { ROLES } from '../permissions.js';
import { beginSession, safeReturnTo } from '../session.js';
import type { OidcPending } from './oidc.js';
import type { StaffMember, StaffService } from './service.js';

declare module '@fastify/session' {
  interface FastifySessionObject {
    /** A staff sign-in part way through: password checked, code or authenticator set-up to come. */
    staffSignIn?: { userId: string; step: 'code' | 'enrol'; returnTo: string; at: number; secret?: string };
    /** An invitation link opened in this browser, waiting for a password to be chosen. */
    staffInvitation?: { userId: string; tokenHash: string; expiresAt: number };
    staffOidc?: OidcPending;
  }
}

const PENDING_MS = 10 * 60 * 1000;
const SIGN_IN_RATE_LIMIT = { rateLimit: { max: 10, timeWindow: '1 minute' } };
const STATUS_LABELS = { active: 'Active', invited: 'Invited', disabled: 'Disabled' } as const;
type Form = Record<string, string | string[] | undefined>;

function field(body: unknown, name: string): string {
  const v = (body as Form | undefined)?.[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? (v[0] ?? '') : '';
}

function list(body: unknown, name: string): string[] {
  const v = (body as Form | undefined)?.[name];
  return (Array.isArray(v) ? v : typeof v === 'string' ? [v] : []).filter((x) => x !== '');
}

function query(request: FastifyRequest): Record<string, string> {
  const q = request.query as Record<string, unknown>;
  return Object.fromEntries(Object.entries(q ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function staffOf(request: FastifyRequest, service: StaffService): Promise<StaffMember> {
  return service.current(request).then((m) => {
    if (!m) throw new HttpError(403, 'Sign in to continue.');
    return m;
  });
}

function waitMessage(reason: string, seconds: number | undefined): string {
  if (reason === 'locked') return `You have entered the wrong details too many times. Try again in ${Math.ceil((seconds ?? 900) / 60)} minutes.`;
  if (reason === 'wait') return `Wait ${seconds ?? 1} seconds before trying again.`;
  return '';
}

const InviteSchema = z.object({
  name: z.string().trim().min(1, 'Enter the staff member’s name').max(200, 'Name must be 200 characters or fewer'),
  email: z.string().trim().min(1, 'Enter an email address').email('Enter an email address in the correct format, like name@example.gov.uk'),
  roles: z.array(z.enum(Object.keys(ROLES) as [keyof typeof ROLES, ...(keyof typeof ROLES)[]])).min(1, 'Select at least one role'),
  teams: z.array(z.string()),
});

const AuditQuerySchema = z.object({
  actor: z.string().trim().max(200).optional(),
  action: z.string().trim().max(100).optional(),
  subjectType: z.string().trim().max(100).optional(),
  subjectId: z.string().trim().max(200).optional(),
  from: z.string().trim().optional(),
  to: z.string().trim().optional(),
  page: z.coerce.number().int().min(1).max(100000).optional().catch(1),
});

function parseDay(value: string | undefined): Date | null | undefined {
  if (!value) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return Number.isNaN(d.getTime()) || d.getUTCDate() !== Number(m[3]) ? null : d;
}

export function registerStaffRoutes(app: FastifyInstance, ctx: AccountContext, service: StaffService): void {
  const { config, council } = ctx.platform;

  void app.register(async (staff) => {
    staff.addHook('onRequest', async (request, reply) => {
      if (!request.url.startsWith('/staff')) return;
      const r = reply as FastifyReply & { locals?: Record<string, unknown> };
      r.locals = { staffNavigation: [], ...r.locals };
    });

    // ---- Signing in -------------------------------------------------------------------------

    const renderSignIn = (reply: FastifyReply, data: { email?: string; returnTo: string; errors?: Record<string, string>; status?: number }) =>
      reply.code(data.status ?? 200).view('staff/sign-in.njk', {
        email: data.email ?? '',
        returnTo: data.returnTo,
        fieldErrors: data.errors ?? {},
        errors: errorSummary(data.errors ?? {}),
        oidcEnabled: Boolean(config.oidc),
      });

    staff.get('/staff/sign-in', async (request, reply) => {
      const returnTo = safeReturnTo(query(request).returnTo, '/staff');
      if (await service.current(request)) return reply.redirect(returnTo);
      return renderSignIn(reply, { returnTo });
    });

    staff.post('/staff/sign-in', { config: SIGN_IN_RATE_LIMIT }, async (request, reply) => {
      const email = field(request.body, 'email').trim();
      const password = field(request.body, 'password');
      const returnTo = safeReturnTo(field(request.body, 'returnTo'), '/staff');
      const errors: Record<string, string> = {};
      if (!email) errors.email = 'Enter your email address';
      if (!password) errors.password = 'Enter your password';
      if (Object.keys(errors).length) return renderSignIn(reply, { email, returnTo, errors, status: 400 });
      const result = await service.checkPassword(email, password);
      if (!result.ok) {
        const message =
          result.reason === 'locked' || result.reason === 'wait'
            ? waitMessage(result.reason, result.retryAfterSeconds)
            : result.reason === 'disabled'
              ? 'Your account has been disabled. Contact an administrator if you need access.'
              : result.reason === 'demo-refused'
                ? 'Demonstration accounts cannot be used on this service.'
                : 'Enter a correct email address and password';
        const status = result.reason === 'locked' || result.reason === 'wait' ? 429 : result.reason === 'invalid' ? 401 : 403;
        return renderSignIn(reply, { email, returnTo, errors: { email: message }, status });
      }
      request.session.staffSignIn = { userId: result.userId, step: result.next, returnTo, at: Date.now() };
      return reply.redirect(result.next === 'code' ? '/staff/sign-in/code' : '/staff/sign-in/set-up-authenticator');
    });

    const pending = (request: FastifyRequest, step: 'code' | 'enrol') => {
      const p = request.session.staffSignIn;
      if (!p || p.step !== step || Date.now() - p.at > PENDING_MS) return undefined;
      return p;
    };

    const renderCode = (reply: FastifyReply, errors: Record<string, string> = {}, status = 200) =>
      reply.code(status).view('staff/sign-in-code.njk', { fieldErrors: errors, errors: errorSummary(errors) });

    staff.get('/staff/sign-in/code', async (request, reply) => {
      if (!pending(request, 'code')) return reply.redirect('/staff/sign-in');
      return renderCode(reply);
    });

    staff.post('/staff/sign-in/code', { config: SIGN_IN_RATE_LIMIT }, async (request, reply) => {
      const p = pending(request, 'code');
      if (!p) return reply.redirect('/staff/sign-in');
      const code = field(request.body, 'code').replace(/\s/g, '');
      if (!/^\d{6}$/.test(code))
        return renderCode(reply, { code: code ? 'Enter the 6-digit code from your authenticator app' : 'Enter the code from your authenticator app' }, 400);
      const result = await service.checkCode(p.userId, code);
      if (!result.ok) {
        if (result.reason === 'refused') {
          request.session.staffSignIn = undefined;
          return reply.redirect('/staff/sign-in');
        }
        const message =
          result.reason === 'invalid'
            ? 'The code is not correct or has already been used. Wait for a new code and try again'
            : waitMessage(result.reason, result.retryAfterSeconds);
        return renderCode(reply, { code: message }, result.reason === 'invalid' ? 401 : 429);
      }
      await beginSession(request, 'staff', p.userId);
      return reply.redirect(p.returnTo);
    });

    const renderEnrol = async (reply: FastifyReply, user: { email: string }, secret: string, errors: Record<string, string> = {}, status = 200) => {
      const uri = totpUri({ issuer: `${council.profile.shortName} staff`, account: user.email, secret });
      const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      return reply.code(status).view('staff/set-up-authenticator.njk', {
        secret: secret.replace(/(.{4})/g, '$1 ').trim(),
        qrSvg,
        fieldErrors: errors,
        errors: errorSummary(errors),
      });
    };

    staff.get('/staff/sign-in/set-up-authenticator', async (request, reply) => {
      const p = pending(request, 'enrol');
      const user = p && (await service.findForSignIn(p.userId));
      if (!p || !user) return reply.redirect('/staff/sign-in');
      // One secret per set-up attempt, kept until it is confirmed with a code.
      const secret = p.secret ?? generateTotpSecret();
      if (!p.secret) request.session.staffSignIn = { ...p, secret };
      return renderEnrol(reply, user, secret);
    });

    staff.post('/staff/sign-in/set-up-authenticator', { config: SIGN_IN_RATE_LIMIT }, async (request, reply) => {
      const p = pending(request, 'enrol');
      const user = p && (await service.findForSignIn(p.userId));
      if (!p || !p.secret || !user) return reply.redirect('/staff/sign-in');
      const code = field(request.body, 'code').replace(/\s/g, '');
      if (!/^\d{6}$/.test(code)) return renderEnrol(reply, user, p.secret, { code: 'Enter the 6-digit code from your authenticator app' }, 400);
      const result = await service.completeEnrolment(p.userId, p.secret, code);
      if (!result.ok) {
        if (result.reason === 'refused') {
          request.session.staffSignIn = undefined;
          return reply.redirect('/staff/sign-in');
        }
        const message =
          result.reason === 'invalid'
            ? 'The code is not correct. Check the time on your phone and enter the code shown now'
            : waitMessage(result.reason, result.retryAfterSeconds);
        return renderEnrol(reply, user, p.secret, { code: message }, result.reason === 'invalid' ? 401 : 429);
      }
      await beginSession(request, 'staff', p.userId);
      return reply.redirect(p.returnTo);
    });

    // ---- Invitations --------------------------------------------------------------------------

    const renderSetPassword = async (reply: FastifyReply, userId: string, errors: Record<string, string> = {}, status = 200) => {
      const user = await service.findForSignIn(userId);
      return reply.code(status).view('staff/set-password.njk', { user, fieldErrors: errors, errors: errorSummary(errors) });
    };

    staff.get('/staff/invitation', { config: SIGN_IN_RATE_LIMIT }, async (request, reply) => {
      const token = query(request).token;
      if (token !== undefined) {
        const result = await service.openInvitation(token);
        if (!result.ok) return reply.code(result.reason === 'expired' ? 410 : 400).view('staff/invitation-invalid.njk', { reason: result.reason });
        request.session.staffInvitation = { userId: result.userId, tokenHash: result.tokenHash, expiresAt: result.expiresAt };
        // The token leaves the address bar (and any Referer) before the person does anything else.
        return reply.redirect('/staff/invitation');
      }
      const inv = request.session.staffInvitation;
      if (!inv || inv.expiresAt <= Date.now()) return reply.code(400).view('staff/invitation-invalid.njk', { reason: 'invalid' });
      return renderSetPassword(reply, inv.userId);
    });

    staff.post('/staff/invitation', { config: SIGN_IN_RATE_LIMIT }, async (request, reply) => {
      const inv = request.session.staffInvitation;
      if (!inv || inv.expiresAt <= Date.now()) return reply.code(400).view('staff/invitation-invalid.njk', { reason: 'invalid' });
      const user = await service.findForSignIn(inv.userId);
      if (!user) return reply.code(400).view('staff/invitation-invalid.njk', { reason: 'invalid' });
      const password = field(request.body, 'password');
      const confirm = field(request.body, 'confirmPassword');
      const errors: Record<string, string> = {};
      const problems = checkNewPassword(password, { email: user.email, name: user.name });
      if (problems[0]) errors.password = problems[0].message;
      else if (password !== confirm) errors.confirmPassword = 'The passwords do not match';
      if (Object.keys(errors).length) return renderSetPassword(reply, inv.userId, errors, 400);
      const result = await service.acceptInvitation(inv, password);
      request.session.staffInvitation = undefined;
      if (!result.ok) return reply.code(400).view('staff/invitation-invalid.njk', { reason: result.reason });
      request.session.staffSignIn = { userId: inv.userId, step: 'enrol', returnTo: '/staff', at: Date.now() };
      return reply.redirect('/staff/sign-in/set-up-authenticator');
    });

    // ---- Single sign-on -----------------------------------------------------------------------

    staff.get('/staff/sign-in/oidc', { config: SIGN_IN_RATE_LIMIT }, async (request, reply) => {
      const oidc = service.oidc();
      if (!oidc) throw new HttpError(404, 'Page not found');
      const { url, pending: state } = await oidc.start(safeReturnTo(query(request).returnTo, '/staff'));
      request.session.staffOidc = state;
      return reply.redirect(url);
    });

    staff.get('/staff/sign-in/oidc/callback', { config: SIGN_IN_RATE_LIMIT }, async (request, reply) => {
      const oidc = service.oidc();
      if (!oidc) throw new HttpError(404, 'Page not found');
      const state = request.session.staffOidc;
      request.session.staffOidc = undefined;
      const refuse = (reason: string) => reply.code(403).view('staff/sign-in-refused.njk', { reason });
      if (!state || Date.now() - state.startedAt > PENDING_MS) return refuse('expired');
      let identity;
      try {
        identity = await oidc.finish(new URL(request.url, config.baseUrl), state);
      } catch (err) {
        request.log.info({ err: (err as Error).message }, 'single sign-on answer refused');
        return refuse('failed');
      }
      const result = await service.signInWithOidc(identity);
      if (!result.ok) return refuse(result.reason);
      await beginSession(request, 'staff', result.userId);
      return reply.redirect(safeReturnTo(state.returnTo, '/staff'));
    });

    staff.post('/staff/sign-out', async (request, reply) => {
      await service.signOut(request);
      return reply.redirect('/staff/sign-in');
    });

    // ---- Home ---------------------------------------------------------------------------------

    staff.get('/staff', { preHandler: service.guard() }, async (request, reply) => {
      const member = await staffOf(request, service);
      // The header's navigation, less this page: each capability adds its own item, so the two always agree.
      const areas = service.navigationFor(member, '/staff').filter((item) => item.href !== '/staff');
      return reply.view('staff/home.njk', { member, areas, roleNames: member.roles.map((r) => ROLES[r]) });
    });

    // ---- Staff users --------------------------------------------------------------------------

    staff.get('/staff/users', { preHandler: service.guard('staff:manage') }, async (request, reply) => {
      const member = await staffOf(request, service);
      const q = query(request);
      const status = q.status === 'active' || q.status === 'invited' || q.status === 'disabled' ? (q.status as 'active' | 'invited' | 'disabled') : undefined;
      const filter = { role: q.role && Object.hasOwn(ROLES, q.role) ? q.role : undefined, team: q.team || undefined, status };
      const [users, teams] = await Promise.all([service.listStaff(member, filter), service.teams()]);
      const teamNames = Object.fromEntries(teams.map((t) => [t.code, t.name]));
      return reply.view('staff/users/list.njk', {
        users: users.map((u) => ({
          ...u,
          roleNames: u.roles.map((r) => ROLES[r]),
          teamNames: u.teams.map((t) => teamNames[t] ?? t),
          statusLabel: STATUS_LABELS[u.status],
        })),
        filter: { role: filter.role ?? '', team: filter.team ?? '', status: filter.status ?? '' },
        roles: Object.entries(ROLES).map(([value, text]) => ({ value, text })),
        teams,
        statuses: Object.entries(STATUS_LABELS).map(([value, text]) => ({ value, text })),
      });
    });

    const renderInvite = async (
      reply: FastifyReply,
      values: { name?: string; email?: string; roles?: string[]; teams?: string[] } = {},
      errors: Record<string, string> = {},
      status = 200,
    ) =>
      reply.code(status).view('staff/users/invite.njk', {
        values: { name: values.name ?? '', email: values.email ?? '', roles: values.roles ?? [], teams: values.teams ?? [] },
        roles: Object.entries(ROLES).map(([value, text]) => ({ value, text })),
        teams: await service.teams(),
        fieldErrors: errors,
        errors: errorSummary(errors),
      });

    staff.get('/staff/users/invite', { preHandler: service.guard('staff:manage') }, async (_request, reply) => renderInvite(reply));

    staff.post('/staff/users/invite', { preHandler: service.guard('staff:manage') }, async (request, reply) => {
      const member = await staffOf(request, service);
      const values = {
        name: field(request.body, 'name'),
        email: field(request.body, 'email'),
        roles: list(request.body, 'roles'),
        teams: list(request.body, 'teams'),
      };
      const parsed = InviteSchema.safeParse(values);
      if (!parsed.success) {
        const errors: Record<string, string> = {};
        for (const issue of parsed.error.issues) {
          const key = String(issue.path[0] ?? 'name');
          errors[key] ??= key === 'roles' ? 'Select at least one role' : issue.message;
        }
        return renderInvite(reply, values, errors, 400);
      }
      try {
        const { id } = await service.invite(member, parsed.data);
        return reply.redirect(`/staff/users/${id}?invited=1`);
      } catch (err) {
        if (err instanceof HttpError && (err.statusCode === 409 || err.statusCode === 400)) {
          return renderInvite(reply, values, { [err.statusCode === 409 ? 'email' : 'teams']: err.message }, err.statusCode);
        }
        throw err;
      }
    });

    const renderUser = async (request: FastifyRequest, reply: FastifyReply, id: string, errors: Record<string, string> = {}, status = 200) => {
      const member = await staffOf(request, service);
      const [user, teams] = await Promise.all([service.getStaff(member, id), service.teams()]);
      const teamNames = Object.fromEntries(teams.map((t) => [t.code, t.name]));
      const q = query(request);
      return reply.code(status).view('staff/users/edit.njk', {
        user: {
          ...user,
          roleNames: user.roles.map((r) => ROLES[r]),
          teamNames: user.teams.map((t) => teamNames[t] ?? t),
          statusLabel: STATUS_LABELS[user.status],
        },
        self: user.id === member.id,
        roles: Object.entries(ROLES).map(([value, text]) => ({ value, text })),
        teams,
        notice: q.invited ? 'invited' : q.saved ? 'saved' : q.disabled ? 'disabled' : q.enabled ? 'enabled' : q.mfa ? 'mfa' : undefined,
        fieldErrors: errors,
        errors: errorSummary(errors),
      });
    };

    staff.get<{ Params: { id: string } }>('/staff/users/:id', { preHandler: service.guard('staff:manage') }, async (request, reply) =>
      renderUser(request, reply, request.params.id),
    );

    staff.post<{ Params: { id: string } }>('/staff/users/:id', { preHandler: service.guard('staff:manage') }, async (request, reply) => {
      const member = await staffOf(request, service);
      const roles = list(request.body, 'roles');
      if (roles.length === 0) return renderUser(request, reply, request.params.id, { roles: 'Select at least one role' }, 400);
      try {
        await service.updateAccess(member, request.params.id, { roles, teams: list(request.body, 'teams') });
      } catch (err) {
        if (err instanceof HttpError && (err.statusCode === 400 || err.statusCode === 409))
          return renderUser(request, reply, request.params.id, { roles: err.message }, err.statusCode);
        throw err;
      }
      return reply.redirect(`/staff/users/${request.params.id}?saved=1`);
    });

    for (const action of ['disable', 'enable', 'reset-mfa', 'resend-invitation'] as const) {
      staff.post<{ Params: { id: string } }>(`/staff/users/:id/${action}`, { preHandler: service.guard('staff:manage') }, async (request, reply) => {
        const member = await staffOf(request, service);
        const id = request.params.id;
        try {
          if (action === 'reset-mfa') await service.resetMfaFor(member, id);
          else if (action === 'resend-invitation') await service.resendInvitation(member, id);
          else await service.setStatus(member, id, action === 'disable' ? 'disabled' : 'active');
        } catch (err) {
          if (err instanceof HttpError && err.statusCode === 409) return renderUser(request, reply, id, { status: err.message }, 409);
          throw err;
        }
        const notices = { 'reset-mfa': 'mfa', 'resend-invitation': 'invited', disable: 'disabled', enable: 'enabled' } as const;
        const notice = notices[action];
        return reply.redirect(`/staff/users/${id}?${notice}=1`);
      });
    }

    // ---- Audit log ----------------------------------------------------------------------------

    staff.get('/staff/audit', { preHandler: service.guard('audit:read') }, async (request, reply) => {
      const member = await staffOf(request, service);
      const q = AuditQuerySchema.parse(query(request));
      const errors: Record<string, string> = {};
      const from = parseDay(q.from);
      const to = parseDay(q.to);
      if (from === null) errors.from = 'Enter the start date as a real date, like 2026-11-23';
      if (to === null) errors.to = 'Enter the end date as a real date, like 2026-11-30';
      if (from && to && from > to) errors.to = 'The end date must be the same as or after the start date';
      const pageSize = 25;
      const search = {
        actor: q.actor || undefined,
        action: q.action || undefined,
        subjectType: q.subjectType || undefined,
        subjectId: q.subjectId || undefined,
        from: from ?? undefined,
        // The end date includes the whole of that day.
        to: to ? new Date(to.getTime() + 86400_000) : undefined,
        page: q.page ?? 1,
        pageSize,
      };
      const result = Object.keys(errors).length ? { rows: [], total: 0, page: 1, pageSize } : await service.searchAudit(member, search);
      const pages = Math.max(1, Math.ceil(result.total / pageSize));
      const params = new URLSearchParams(
        Object.entries({ actor: q.actor, action: q.action, subjectType: q.subjectType, subjectId: q.subjectId, from: q.from, to: q.to }).filter(
          (e): e is [string, string] => Boolean(e[1]),
        ),
      );
      const pageHref = (n: number) => {
        const p = new URLSearchParams(params);
        p.set('page', String(n));
        return `/staff/audit?${p.toString()}`;
      };
      const pageItems: ({ number: number; href: string; current: boolean } | { ellipsis: true })[] = [];
      for (let n = 1; n <= pages; n++) {
        if (n === 1 || n === pages || Math.abs(n - result.page) <= 2) pageItems.push({ number: n, href: pageHref(n), current: n === result.page });
        else if (!('ellipsis' in (pageItems[pageItems.length - 1] ?? {}))) pageItems.push({ ellipsis: true });
      }
      return reply.code(Object.keys(errors).length ? 400 : 200).view('staff/audit.njk', {
        q: { actor: q.actor ?? '', action: q.action ?? '', subjectType: q.subjectType ?? '', subjectId: q.subjectId ?? '', from: q.from ?? '', to: q.to ?? '' },
        rows: result.rows.map((r) => ({ ...r, detailsText: r.details && Object.keys(r.details as object).length ? JSON.stringify(r.details) : '' })),
        total: result.total,
        pagination:
          pages > 1
            ? {
                previous: result.page > 1 ? { href: pageHref(result.page - 1) } : undefined,
                next: result.page < pages ? { href: pageHref(result.page + 1) } : undefined,
                items: pageItems,
              }
            : undefined,
        firstShown: result.total ? (result.page - 1) * pageSize + 1 : 0,
        lastShown: Math.min(result.total, result.page * pageSize),
        fieldErrors: errors,
        errors: errorSummary(errors),
      });
    });

    // ---- Messages (development and test only) -------------------------------------------------

    staff.get('/staff/messages', { preHandler: service.guard('messages:read') }, async (request, reply) => {
      const member = await staffOf(request, service);
      const messages = await service.listMessages(member);
      return reply.view('staff/messages.njk', { messages });
    });

    staff.get<{ Params: { id: string } }>('/staff/messages/:id', { preHandler: service.guard('messages:read') }, async (request, reply) => {
      const member = await staffOf(request, service);
      const message = await service.getMessage(member, request.params.id);
      return reply.view('staff/message.njk', { message });
    });
  });
}
