import { randomUUID } from 'node:crypto';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySession from '@fastify/session';
import fastifyStatic from '@fastify/static';
import fastifyView from '@fastify/view';
import nunjucks from 'nunjucks';
import { projectRoot } from '#platform/config/index';
import { databaseAnswers } from '#platform/db/index';
import { HttpError, wantsJson } from '#platform/http/errors';
import { DatabaseSessionStore } from '#platform/http/session-store';
import type { NavItem, Platform } from '#platform/platform';
import { configureNunjucks, templateFolders } from '#platform/views/index';

/** A capability's web part: its templates and routes, registered in the order given. */
export interface WebModule {
  name: string;
  templates?: string;
  /** Links this capability adds to the residents' service navigation. */
  residentNavigation?: NavItem[];
  /** Cards on the home page. */
  homeServices?: { href: string; title: string; description: string }[];
  register(app: FastifyInstance): Promise<void> | void;
}

export const SESSION_IDLE_MS = 30 * 60 * 1000;
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60 * 1000;
export const BODY_LIMIT_BYTES = 1024 * 1024;

declare module 'fastify' {
  interface FastifyReply {
    /** What every page's template sees (set by @fastify/view's decorator). */
    locals: Record<string, unknown>;
  }
  interface FastifyContextConfig {
    /** Set false on routes authenticated another way (API keys, bearer tokens). */
    csrf?: boolean;
  }
}

declare module '@fastify/session' {
  interface FastifySessionObject {
    startedAt?: number;
    residentId?: string;
    staffId?: string;
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function buildApp(platform: Platform, modules: WebModule[]): Promise<FastifyInstance> {
  const { config, council, logger, database } = platform;
  const secureCookies = config.production || config.baseUrl.startsWith('https://');

  const app = Fastify({
    loggerInstance: logger,
    genReqId: () => randomUUID(),
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.production,
  });

  // 1. Security headers, with a fresh nonce for every page's script tags and no inline script.
  await app.register(fastifyHelmet, {
    enableCSPNonces: true,
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        upgradeInsecureRequests: config.production ? [] : null,
      },
    },
    hsts: config.production ? { maxAge: 31536000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
  });

  // 2. Sessions in the database; cookies HttpOnly, SameSite=Lax, Secure over HTTPS.
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: config.sessionSecret,
    cookieName: 'borough_session',
    store: new DatabaseSessionStore(database.db, SESSION_IDLE_MS),
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, sameSite: 'lax', secure: secureCookies, maxAge: SESSION_IDLE_MS, path: '/' },
  });

  // 3. Bodies and CSRF: every state-changing request carries the session's token.
  await app.register(fastifyFormbody, { bodyLimit: BODY_LIMIT_BYTES });
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/session',
    getToken: (req) => (req.body as Record<string, string> | undefined)?._csrf ?? (req.headers['x-csrf-token'] as string | undefined) ?? '',
  });
  app.addHook('preHandler', (request, reply, done) => {
    if (!UNSAFE.has(request.method) || request.routeOptions.config?.csrf === false) return done();
    app.csrfProtection(request, reply, done);
  });

  // 4. Rate limits are set per route (sign-in, registration, links); none globally.
  await app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: (_req, context) => {
      const err = new HttpError(429, 'Too many requests');
      (err as HttpError & { retryAfter?: string }).retryAfter = context.after;
      return err;
    },
  });

  // 5. Views: Nunjucks with GOV.UK and MOJ Frontend macros.
  const moduleTemplates = modules.flatMap((m) => (m.templates ? [m.templates] : []));
  await app.register(fastifyView, {
    engine: { nunjucks },
    templates: templateFolders(moduleTemplates),
    production: config.production || config.env === 'test',
    options: { autoescape: true, throwOnUndefined: false, onConfigure: configureNunjucks },
  });

  // 6. Static assets, served by the platform itself (no CDN).
  const cacheFor = config.production ? 86400 * 1000 : 0;
  await app.register(fastifyStatic, {
    root: path.join(projectRoot, 'node_modules/govuk-frontend/dist/govuk'),
    prefix: '/assets/govuk/',
    maxAge: cacheFor,
    decorateReply: false,
  });
  await app.register(fastifyStatic, {
    root: path.join(projectRoot, 'node_modules/@ministryofjustice/frontend/moj'),
    prefix: '/assets/moj/',
    maxAge: cacheFor,
    decorateReply: false,
  });
  await app.register(fastifyStatic, {
    root: path.join(projectRoot, 'src/platform/views/public/js'),
    prefix: '/assets/js/',
    maxAge: cacheFor,
    decorateReply: false,
  });
  await app.register(fastifyStatic, {
    root: path.join(projectRoot, 'dist/public'),
    prefix: '/assets/',
    maxAge: cacheFor,
    decorateReply: false,
    index: false,
    wildcard: false,
    allowedPath: (p) => /^\/(resident|staff)\.css$/.test(p),
  });
  app.get('/assets/council.css', (_req, reply) =>
    reply
      .type('text/css')
      .header('cache-control', `public, max-age=${cacheFor / 1000}`)
      .send(council.css),
  );
  if (council.logoSvg) {
    const logo = council.logoSvg;
    app.get('/assets/council-logo.svg', (_req, reply) =>
      reply
        .type('image/svg+xml')
        .header('cache-control', `public, max-age=${cacheFor / 1000}`)
        .send(logo),
    );
  }

  // 7. What every page's layout needs.
  const residentNavigation = modules.flatMap((m) => m.residentNavigation ?? []);
  const homeServices = modules.flatMap((m) => m.homeServices ?? []);
  const locals = (request: FastifyRequest, reply: FastifyReply) => ({
    council: council.profile,
    councilLogoSvg: council.logoSvg,
    cspNonce: reply.cspNonce?.script,
    currentPath: request.url.split('?')[0],
    residentNavigation: residentNavigation.map((n) => ({ ...n, active: request.url.startsWith(n.href) })),
    homeServices,
    csrfToken: () => reply.generateCsrf(),
  });
  app.addHook('onRequest', async (request, reply) => {
    const session = request.session;
    if (session?.startedAt && Date.now() - session.startedAt > SESSION_ABSOLUTE_MS) {
      // Absolute timeout: however active, a session ends after SESSION_ABSOLUTE_MS.
      await session.regenerate();
    }
    reply.locals = { ...reply.locals, ...locals(request, reply) };
  });

  // 8. Platform pages.
  app.get('/healthz', async (_request, reply) => {
    const ok = await databaseAnswers(database.pool);
    return reply.code(ok ? 200 : 503).send(ok ? { status: 'ok', database: database.kind } : { status: 'unavailable', database: database.kind });
  });
  app.get('/', (_req, reply) => reply.view('pages/home.njk'));
  for (const page of ['accessibility', 'privacy', 'cookies', 'contact']) {
    app.get(`/${page}`, (_req, reply) => reply.view(`pages/${page}.njk`));
  }

  // 9. GOV.UK-style error pages; never a stack trace. Set before the capabilities so their scopes inherit them.
  app.setNotFoundHandler((request, reply) => renderError(request, reply, new HttpError(404, 'Page not found')));
  app.setErrorHandler((error, request, reply) => renderError(request, reply, error));

  // 10. Capabilities.
  for (const m of modules) await app.register(async (scope) => m.register(scope), {});

  return app as unknown as FastifyInstance;
}

function statusOf(error: unknown): number {
  const e = error as { statusCode?: number; code?: string };
  if (e.code?.startsWith('FST_CSRF')) return 403;
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 413;
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600) return e.statusCode;
  return 500;
}

async function renderError(request: FastifyRequest, reply: FastifyReply, error: unknown): Promise<FastifyReply> {
  const status = statusOf(error);
  const err = error as Error & { code?: string; retryAfter?: string };
  if (status >= 500) request.log.error({ err }, 'request failed');
  else request.log.info({ status, code: err.code }, 'request refused');
  reply.code(status);
  if (wantsJson(request.url, request.headers.accept)) {
    const messages: Record<number, string> = {
      400: 'Bad request',
      403: 'Forbidden',
      404: 'Not found',
      413: 'Request too large',
      429: 'Too many requests',
      503: 'Service unavailable',
    };
    const message = status >= 500 ? 'Internal server error' : status === 400 && err.message ? err.message : (messages[status] ?? 'Error');
    return reply.send({ error: message, statusCode: status, requestId: request.id });
  }
  const staff = request.url.startsWith('/staff');
  const base = { layoutName: staff ? 'layouts/staff.njk' : 'layouts/resident.njk', requestId: request.id };
  if (status === 403)
    return reply.view('errors/403.njk', { ...base, csrf: err.code?.startsWith('FST_CSRF'), message: error instanceof HttpError ? err.message : undefined });
  if (status === 404) return reply.view('errors/404.njk', base);
  if (status === 429) return reply.view('errors/429.njk', { ...base, retryAfter: err.retryAfter });
  if (status < 500) {
    const message = status === 413 ? 'The information you sent was too large.' : 'The information sent could not be understood.';
    return reply.view('errors/403.njk', { ...base, heading: 'There is a problem', message });
  }
  return reply.view('errors/500.njk', base);
}
