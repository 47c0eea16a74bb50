import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Address } from '#platform/geo/index';
import { errorSummary } from '#platform/views/index';
import type { AccountContext } from '../index.js';
import { beginSession, safeReturnTo } from '../session.js';
import { ACCOUNT_HOME, SIGN_IN_PATH, type FieldErrors, type LinkProblem, type RequestMeta, type ResidentService } from './service.js';
import { list, text } from './validation.js';

declare module '@fastify/session' {
  interface FastifySessionObject {
    /** A one-off success message for the next account page. */
    accountFlash?: string;
  }
}

const PER_MINUTE = (max: number) => ({ rateLimit: { max, timeWindow: '1 minute' } });

type Body = Record<string, unknown>;
const bodyOf = (request: FastifyRequest): Body => (request.body && typeof request.body === 'object' ? (request.body as Body) : {});
const queryOf = (request: FastifyRequest): Body => (request.query && typeof request.query === 'object' ? (request.query as Body) : {});

function meta(request: FastifyRequest): RequestMeta {
  return { requestId: request.id, ...(request.session?.sessionId ? { sessionId: request.session.sessionId } : {}) };
}

/** The error summary lists each message once, even when it belongs to two fields. */
function summary(fieldErrors: FieldErrors): { text: string; href: string }[] {
  const seen = new Set<string>();
  return errorSummary(fieldErrors).filter((e) => (seen.has(e.text) ? false : (seen.add(e.text), true)));
}

function withErrors(fieldErrors: FieldErrors, data: Record<string, unknown>): Record<string, unknown> {
  return { ...data, fieldErrors, errors: summary(fieldErrors) };
}

const LINK_PROBLEMS: Record<LinkProblem, string> = {
  invalid: 'The link is not valid. Check you copied the whole link from the email.',
  expired: 'The link has expired.',
  used: 'The link has already been used.',
};

export function registerResidentRoutes(app: FastifyInstance, _ctx: AccountContext, service: ResidentService): void {
  const guard = { preHandler: service.guard };

  function takeFlash(request: FastifyRequest): string | undefined {
    const flash = request.session.accountFlash;
    if (flash) request.session.accountFlash = undefined;
    return flash;
  }

  function accountPage(request: FastifyRequest, reply: FastifyReply, template: string, data: Record<string, unknown> = {}) {
    return reply.view(`residents/${template}`, { resident: service.current(request), flash: takeFlash(request), ...data });
  }

  function linkProblem(reply: FastifyReply, reason: LinkProblem | 'taken' | 'demo-refused', again: { href: string; text: string }) {
    const messages: Record<string, string> = {
      ...LINK_PROBLEMS,
      taken: 'The email address in the link is now used by another account.',
      'demo-refused': 'Demonstration accounts cannot be used on this service.',
    };
    return reply.code(reason === 'invalid' ? 400 : 410).view('residents/link-problem.njk', { message: messages[reason], again });
  }

  async function signIn(request: FastifyRequest, residentId: string): Promise<void> {
    await beginSession(request, 'resident', residentId);
  }

  // ---------------------------------------------------------------- register and confirm
  app.get('/account/register', async (request, reply) => {
    if (await service.signedIn(request)) return reply.redirect(ACCOUNT_HOME);
    return reply.view('residents/register.njk', { values: {} });
  });

  app.post('/account/register', { config: PER_MINUTE(5) }, async (request, reply) => {
    const b = bodyOf(request);
    const values = { email: text(b.email) };
    const result = await service.register({ email: values.email, password: text(b.password), confirmPassword: text(b.confirmPassword) }, meta(request));
    if (!result.ok) return reply.code(400).view('residents/register.njk', withErrors(result.errors, { values }));
    return reply.view('residents/check-email.njk', { email: result.value.email, reason: 'register' });
  });

  app.post('/account/confirm-email/resend', { config: PER_MINUTE(5) }, async (request, reply) => {
    const email = text(bodyOf(request).email);
    await service.resendConfirmation(email);
    return reply.view('residents/check-email.njk', { email: email.trim(), reason: 'register' });
  });

  app.get('/account/confirm-email', async (request, reply) => {
    const token = text(queryOf(request).token);
    const check = await service.checkLink('verify-email', token);
    if (!check.ok) return linkProblem(reply, check.reason, { href: SIGN_IN_PATH, text: 'Sign in to get a new link' });
    return reply.view('residents/use-link.njk', {
      pageTitle: 'Confirm your email address',
      heading: 'Confirm your email address',
      action: '/account/confirm-email',
      token,
      button: 'Confirm email address',
    });
  });

  app.post('/account/confirm-email', async (request, reply) => {
    const result = await service.confirmEmail(text(bodyOf(request).token), meta(request));
    if (!result.ok) return linkProblem(reply, result.reason, { href: SIGN_IN_PATH, text: 'Sign in to get a new link' });
    if (result.kind === 'registered') {
      await signIn(request, result.residentId);
      request.session.accountFlash = 'Your email address is confirmed and your account is ready.';
      return reply.redirect(ACCOUNT_HOME);
    }
    if (result.kind === 'changed') {
      if (request.session.residentId === result.residentId) {
        request.session.accountFlash = 'Your email address has been changed.';
        return reply.redirect('/account/security');
      }
      return reply.view('residents/done.njk', {
        heading: 'Email address changed',
        body: ['You can now sign in with your new email address.'],
        link: { href: SIGN_IN_PATH, text: 'Sign in' },
      });
    }
    return reply.view('residents/done.njk', { heading: 'Your email address is already confirmed', body: [], link: { href: SIGN_IN_PATH, text: 'Sign in' } });
  });

  // ---------------------------------------------------------------- sign in
  app.get('/account/sign-in', async (request, reply) => {
    const returnTo = safeReturnTo(queryOf(request).returnTo, ACCOUNT_HOME);
    if (await service.signedIn(request)) return reply.redirect(returnTo);
    return reply.view('residents/sign-in.njk', { values: {}, returnTo });
  });

  app.post('/account/sign-in', { config: PER_MINUTE(10) }, async (request, reply) => {
    const b = bodyOf(request);
    const values = { email: text(b.email) };
    const returnTo = safeReturnTo(b.returnTo, ACCOUNT_HOME);
    const result = await service.signInWithPassword({ email: values.email, password: text(b.password) }, meta(request));
    const again = (fieldErrors: FieldErrors, code = 400) => reply.code(code).view('residents/sign-in.njk', withErrors(fieldErrors, { values, returnTo }));
    switch (result.status) {
      case 'signed-in':
        await signIn(request, result.residentId);
        return reply.redirect(returnTo);
      case 'invalid':
        return again(result.errors, 401);
      case 'throttled':
        return again(
          {
            password: `You have entered incorrect details several times. Wait ${result.waitSeconds} ${result.waitSeconds === 1 ? 'second' : 'seconds'} and try again`,
          },
          429,
        );
      case 'locked':
        return again(
          {
            password: `You have entered incorrect details too many times. Try again in ${result.minutes} ${result.minutes === 1 ? 'minute' : 'minutes'}, or reset your password`,
          },
          423,
        );
      case 'unverified':
        return reply.code(403).view('residents/unverified.njk', { email: result.email });
      case 'demo-refused':
        return again({ email: 'Demonstration accounts cannot be used on this service' }, 403);
    }
  });

  app.get('/account/sign-in/email-link', (request, reply) => {
    const returnTo = safeReturnTo(queryOf(request).returnTo, ACCOUNT_HOME);
    return reply.view('residents/email-link.njk', { values: {}, returnTo });
  });

  app.post('/account/sign-in/email-link', { config: PER_MINUTE(5) }, async (request, reply) => {
    const b = bodyOf(request);
    const values = { email: text(b.email) };
    const returnTo = safeReturnTo(b.returnTo, ACCOUNT_HOME);
    const result = await service.requestSignInLink({ email: values.email, returnTo });
    if (!result.ok) return reply.code(400).view('residents/email-link.njk', withErrors(result.errors, { values, returnTo }));
    return reply.view('residents/check-email.njk', { email: result.value.email, reason: 'sign-in' });
  });

  app.get('/account/sign-in/link', async (request, reply) => {
    const token = text(queryOf(request).token);
    const check = await service.checkLink('sign-in-link', token);
    if (!check.ok) return linkProblem(reply, check.reason, { href: '/account/sign-in/email-link', text: 'Get a new sign-in link' });
    return reply.view('residents/use-link.njk', {
      pageTitle: 'Sign in to your account',
      heading: 'Sign in to your account',
      action: '/account/sign-in/link',
      token,
      button: 'Sign in',
    });
  });

  app.post('/account/sign-in/link', { config: PER_MINUTE(10) }, async (request, reply) => {
    const result = await service.signInWithLink(text(bodyOf(request).token), meta(request));
    if (!result.ok) return linkProblem(reply, result.reason, { href: '/account/sign-in/email-link', text: 'Get a new sign-in link' });
    await signIn(request, result.residentId);
    return reply.redirect(result.returnTo);
  });

  // ---------------------------------------------------------------- forgotten password
  app.get('/account/forgot-password', (_request, reply) => reply.view('residents/forgot-password.njk', { values: {} }));

  app.post('/account/forgot-password', { config: PER_MINUTE(5) }, async (request, reply) => {
    const values = { email: text(bodyOf(request).email) };
    const result = await service.requestPasswordReset({ email: values.email });
    if (!result.ok) return reply.code(400).view('residents/forgot-password.njk', withErrors(result.errors, { values }));
    return reply.view('residents/check-email.njk', { email: result.value.email, reason: 'reset' });
  });

  app.get('/account/reset-password', async (request, reply) => {
    const token = text(queryOf(request).token);
    const check = await service.checkLink('reset-password', token);
    if (!check.ok) return linkProblem(reply, check.reason, { href: '/account/forgot-password', text: 'Get a new link to reset your password' });
    return reply.view('residents/reset-password.njk', { token });
  });

  app.post('/account/reset-password', { config: PER_MINUTE(10) }, async (request, reply) => {
    const b = bodyOf(request);
    const token = text(b.token);
    const result = await service.resetPassword({ token, password: text(b.password), confirmPassword: text(b.confirmPassword) }, meta(request));
    if (!result.ok && 'reason' in result)
      return linkProblem(reply, result.reason, { href: '/account/forgot-password', text: 'Get a new link to reset your password' });
    if (!result.ok) return reply.code(400).view('residents/reset-password.njk', withErrors(result.errors, { token }));
    return reply.view('residents/done.njk', {
      heading: 'Your password has been reset',
      body: ['You have been signed out on all your devices.'],
      link: { href: SIGN_IN_PATH, text: 'Sign in with your new password' },
    });
  });

  // ---------------------------------------------------------------- sign out
  app.post('/account/sign-out', async (request, reply) => {
    const residentId = request.session.residentId;
    if (residentId) await service.recordSignOut(residentId, meta(request));
    await endResidentSession(request);
    return reply.redirect('/account/signed-out');
  });

  app.get('/account/signed-out', (_request, reply) =>
    reply.view('residents/done.njk', { heading: 'You have signed out', body: [], link: { href: SIGN_IN_PATH, text: 'Sign in again' } }),
  );

  app.post('/account/sign-out-everywhere', guard, async (request, reply) => {
    const resident = service.current(request);
    await service.signOutEverywhere(resident.id, meta(request));
    await endResidentSession(request);
    return reply.view('residents/done.njk', {
      heading: 'You have signed out on all your devices',
      body: ['Anyone using your account on another device has been signed out.'],
      link: { href: SIGN_IN_PATH, text: 'Sign in again' },
    });
  });

  // ---------------------------------------------------------------- your council activity
  app.get('/account', guard, async (request, reply) => {
    const resident = service.current(request);
    const sections = await service.activity(resident.id);
    const total = sections.reduce((n, s) => n + s.items.length, 0);
    return accountPage(request, reply, 'activity.njk', { sections: sections.filter((s) => s.items.length > 0), total, section: 'activity' });
  });

  // ---------------------------------------------------------------- your details
  app.get('/account/details', guard, (request, reply) => accountPage(request, reply, 'details.njk', { section: 'details' }));

  app.get('/account/details/change', guard, (request, reply) => {
    const r = service.current(request);
    const contact = [...(r.contactByEmail ? ['email'] : []), ...(r.contactBySms ? ['sms'] : [])];
    return accountPage(request, reply, 'details-change.njk', { values: { name: r.name ?? '', phone: r.phone ?? '', contact }, section: 'details' });
  });

  app.post('/account/details/change', guard, async (request, reply) => {
    const b = bodyOf(request);
    const values = { name: text(b.name), phone: text(b.phone), contact: list(b.contact) };
    const result = await service.updateDetails(service.current(request).id, values, meta(request));
    if (!result.ok) return accountPage(request, reply.code(400), 'details-change.njk', withErrors(result.errors, { values, section: 'details' }));
    request.session.accountFlash = 'Your details have been updated.';
    return reply.redirect('/account/details');
  });

  app.get('/account/details/address', guard, async (request, reply) => {
    const postcode = text(queryOf(request).postcode);
    if (!('postcode' in queryOf(request))) return accountPage(request, reply, 'address-postcode.njk', { values: {}, section: 'details' });
    const lookup = await service.findAddresses(postcode);
    if (!lookup.ok)
      return accountPage(request, reply.code(400), 'address-postcode.njk', withErrors(lookup.errors, { values: { postcode }, section: 'details' }));
    return accountPage(request, reply, 'address-choose.njk', {
      postcode: lookup.postcode,
      addresses: lookup.addresses,
      addressOptions: addressOptions(lookup.addresses, ''),
      values: {},
      section: 'details',
    });
  });

  app.post('/account/details/address', guard, async (request, reply) => {
    const b = bodyOf(request);
    const input = { postcode: text(b.postcode), uprn: text(b.uprn) };
    const result = await service.chooseAddress(service.current(request).id, input, meta(request));
    if (!result.ok) {
      const lookup = await service.findAddresses(input.postcode);
      if (!lookup.ok) return accountPage(request, reply.code(400), 'address-postcode.njk', withErrors(lookup.errors, { values: input, section: 'details' }));
      return accountPage(
        request,
        reply.code(400),
        'address-choose.njk',
        withErrors(result.errors, {
          postcode: lookup.postcode,
          addresses: lookup.addresses,
          addressOptions: addressOptions(lookup.addresses, input.uprn),
          values: input,
          section: 'details',
        }),
      );
    }
    request.session.accountFlash = 'Your address has been updated.';
    return reply.redirect('/account/details');
  });

  app.get('/account/details/address/manual', guard, (request, reply) => {
    const r = service.current(request);
    const a = r.address && !r.address.uprn ? r.address : undefined;
    const values = a
      ? { addressLine1: a.lines[0] ?? '', addressLine2: a.lines.slice(1).join(', '), town: a.town ?? '', postcode: a.postcode }
      : { postcode: text(queryOf(request).postcode) };
    return accountPage(request, reply, 'address-manual.njk', { values, section: 'details' });
  });

  app.post('/account/details/address/manual', guard, async (request, reply) => {
    const b = bodyOf(request);
    const values = { addressLine1: text(b.addressLine1), addressLine2: text(b.addressLine2), town: text(b.town), postcode: text(b.postcode) };
    const result = await service.setManualAddress(service.current(request).id, values, meta(request));
    if (!result.ok) return accountPage(request, reply.code(400), 'address-manual.njk', withErrors(result.errors, { values, section: 'details' }));
    request.session.accountFlash = 'Your address has been updated.';
    return reply.redirect('/account/details');
  });

  // ---------------------------------------------------------------- sign-in and security
  app.get('/account/security', guard, (request, reply) => accountPage(request, reply, 'security.njk', { section: 'security' }));

  app.get('/account/security/email', guard, (request, reply) => accountPage(request, reply, 'change-email.njk', { values: {}, section: 'security' }));

  app.post('/account/security/email', guard, async (request, reply) => {
    const b = bodyOf(request);
    const values = { email: text(b.email) };
    const result = await service.requestEmailChange(service.current(request).id, { email: values.email, password: text(b.password) }, meta(request));
    if (!result.ok) return accountPage(request, reply.code(400), 'change-email.njk', withErrors(result.errors, { values, section: 'security' }));
    return accountPage(request, reply, 'check-email.njk', { email: result.value.email, reason: 'change-email', section: 'security' });
  });

  app.get('/account/security/password', guard, (request, reply) => accountPage(request, reply, 'change-password.njk', { section: 'security' }));

  app.post('/account/security/password', guard, async (request, reply) => {
    const b = bodyOf(request);
    const result = await service.changePassword(
      service.current(request).id,
      { currentPassword: text(b.currentPassword), password: text(b.password), confirmPassword: text(b.confirmPassword) },
      meta(request),
    );
    if (!result.ok) return accountPage(request, reply.code(400), 'change-password.njk', withErrors(result.errors, { section: 'security' }));
    request.session.accountFlash = 'Your password has been changed. You have been signed out on your other devices.';
    return reply.redirect('/account/security');
  });

  // ---------------------------------------------------------------- your data
  app.get('/account/your-data', guard, (request, reply) => accountPage(request, reply, 'your-data.njk', { section: 'data' }));

  app.get('/account/your-data/download', guard, async (request, reply) => {
    const data = await service.exportData(service.current(request).id, meta(request));
    const day = new Date().toISOString().slice(0, 10);
    return reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="your-account-data-${day}.json"`)
      .header('cache-control', 'no-store')
      .send(JSON.stringify(data, null, 2));
  });

  app.get('/account/your-data/delete', guard, (request, reply) => accountPage(request, reply, 'delete-account.njk', { section: 'data' }));

  app.post('/account/your-data/delete', guard, async (request, reply) => {
    const b = bodyOf(request);
    const result = await service.deleteAccount(service.current(request).id, { password: text(b.password), confirm: text(b.confirm) === 'yes' }, meta(request));
    if (!result.ok) return accountPage(request, reply.code(400), 'delete-account.njk', withErrors(result.errors, { section: 'data' }));
    await endResidentSession(request);
    return reply.redirect('/account/deleted');
  });

  app.get('/account/deleted', (_request, reply) => reply.view('residents/deleted.njk'));
}

function addressOptions(addresses: Address[], selected: string): { value: string; text: string; selected?: boolean }[] {
  const found = addresses.length === 1 ? '1 address found' : `${addresses.length} addresses found`;
  return [{ value: '', text: found }, ...addresses.map((a) => ({ value: a.uprn, text: a.singleLine, selected: a.uprn === selected }))];
}

/** Ends the resident's part of the session, keeping a staff sign-in on the same browser. */
async function endResidentSession(request: FastifyRequest): Promise<void> {
  if (request.session.staffId) {
    await request.session.regenerate(['staffId', 'startedAt']);
  } else {
    await request.session.destroy();
  }
}
