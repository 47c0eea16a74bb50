import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySession from '@fastify/session';
import fastifyStatic from '@fastify/static';
import fastifyView from '@fastify/view';
import nunjucks from 'nunjucks';
import { projectRoot } from '#platform/config/index';
import { databaseAnswers } from '#platform/db/index';
import { HttpError, wantsJson } from '#platform/http/errors';
import { databaseRateLimitStore } from '#platform/http/rate-limit-store';
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
    /** This response's Content Security Policy nonce for script tags. */
    scriptNonce: string;
    /** What every page's template sees (set by @fastify/view's decorator). */
    locals: Record<string, unknown>;
  }
  interface FastifyContextConfig {
    /** Set false on routes authenticated another way (API keys, bearer tokens). */
    csrf?: boolean;
    /** The same page for every visitor, rendered once (see buildApp). */
    informationPage?: boolean;
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
    trustProxy: config.trustedProxies,
  });

  // 1. Security headers. The fixed ones never change, so they are built once and set in one step;
  //    the Content Security Policy carries a fresh nonce per response for the page's script tags,
  //    and pages have no inline script at all.
  const fixedHeaders = securityHeaders(config.production);
  const csp = contentSecurityPolicy(config.production, config.mapTiles?.origin);
  app.decorateReply('scriptNonce', '');
  // Health checks and static files are never pages: they get a policy that allows nothing, and no nonce.
  const notAPage = (url: string) => url.startsWith('/assets/') || url.startsWith('/healthz');
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(fixedHeaders);
    if (notAPage(request.url)) {
      reply.header('content-security-policy', NOTHING_ALLOWED);
      return done();
    }
    usePageNonce(reply);
    done();
  });
  const usePageNonce = (reply: FastifyReply) => {
    const nonce = nextNonce();
    reply.scriptNonce = nonce;
    reply.header('content-security-policy', csp(nonce));
  };

  // 2. Views: Nunjucks with GOV.UK and MOJ Frontend macros, and what every page's layout needs.
  const moduleTemplates = modules.flatMap((m) => (m.templates ? [m.templates] : []));
  await app.register(fastifyView, {
    engine: { nunjucks },
    templates: templateFolders(moduleTemplates),
    production: config.production || config.env === 'test',
    options: { autoescape: true, throwOnUndefined: false, onConfigure: configureNunjucks },
  });
  const residentNavigation = modules.flatMap((m) => m.residentNavigation ?? []);
  const homeServices = modules.flatMap((m) => m.homeServices ?? []);
  const setPageLocals = (request: FastifyRequest, reply: FastifyReply) => {
    const currentPath = request.url.split('?')[0] ?? '/';
    reply.locals = {
      ...reply.locals,
      council: council.profile,
      councilLogoSvg: council.logoSvg,
      cspNonce: reply.scriptNonce,
      currentPath,
      residentNavigation: residentNavigation.map((n) => ({ ...n, active: currentPath.startsWith(n.href) })),
      homeServices,
      csrfToken: () => reply.generateCsrf(),
    };
  };
  app.addHook('onRequest', (request, reply, done) => {
    // Information pages already rendered need no locals: they are served from the cache below.
    if (!notAPage(request.url) && !request.routeOptions.config?.informationPage) setPageLocals(request, reply);
    done();
  });
  // An error page can be needed anywhere, even for a missing asset.
  const renderError = (request: FastifyRequest, reply: FastifyReply, error: unknown) => {
    if (!reply.scriptNonce) {
      usePageNonce(reply);
      setPageLocals(request, reply);
    }
    return renderErrorPage(request, reply, error);
  };

  // 3. GOV.UK-style error pages, never a stack trace; set first so every scope inherits them.
  app.setNotFoundHandler((request, reply) => renderError(request, reply, new HttpError(404, 'Page not found')));
  app.setErrorHandler((error, request, reply) => renderError(request, reply, error));

  // 4. Health and static assets, served by the platform itself (no CDN), without sessions.
  // The answer is one of two fixed bodies; while the last check is fresh it is sent without waiting.
  const health = databaseHealth(database.pool);
  const healthBodies = {
    ok: JSON.stringify({ status: 'ok', database: database.kind }),
    down: JSON.stringify({ status: 'unavailable', database: database.kind }),
  };
  const answerHealth = (reply: FastifyReply, ok: boolean) =>
    reply
      .code(ok ? 200 : 503)
      .type('application/json; charset=utf-8')
      .send(ok ? healthBodies.ok : healthBodies.down);
  app.get('/healthz', (_request, reply) => {
    const known = health.known();
    return known === undefined ? health.check().then((ok) => answerHealth(reply, ok)) : answerHealth(reply, known);
  });
  const cacheFor = config.production ? 86400 * 1000 : 0;
  await app.register(fastifyStatic, {
    root: path.join(projectRoot, 'node_modules/@ministryofjustice/frontend/moj'),
    prefix: '/assets/moj/',
    maxAge: cacheFor,
    decorateReply: false,
  });
  // Scripts, GOV.UK Frontend's assets and the map library, copied and compressed by the build.
  const built: [string, string][] = [
    ['/assets/js/', 'dist/scripts'],
    ['/assets/govuk/', 'dist/vendor/govuk'],
    ['/assets/leaflet/', 'dist/vendor/leaflet'],
  ];
  for (const [prefix, folder] of built) {
    await app.register(fastifyStatic, { root: path.join(projectRoot, folder), prefix, maxAge: cacheFor, decorateReply: false, preCompressed: true });
  }
  await app.register(fastifyStatic, {
    root: path.join(projectRoot, 'dist/public'),
    prefix: '/assets/',
    maxAge: cacheFor,
    decorateReply: false,
    index: false,
    wildcard: false,
    preCompressed: true,
    allowedPath: (p) => /^\/(resident|staff)\.css$/.test(p),
  });
  const cacheControl = `public, max-age=${cacheFor / 1000}`;
  app.get('/assets/council.css', (_req, reply) => reply.type('text/css').header('cache-control', cacheControl).send(council.css));
  const logo = council.logoSvg;
  if (logo) app.get('/assets/council-logo.svg', (_req, reply) => reply.type('image/svg+xml').header('cache-control', cacheControl).send(logo));

  // 5. Information pages: the same for every visitor, so rendered once per address and served
  //    with this response's nonce. No session is needed to read them.
  // Each page is kept as the pieces around its nonce, joined with this response's nonce.
  const rendered = new Map<string, string[]>();
  const informationPage = (template: string) => ({
    config: { informationPage: true },
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const key = request.url.split('?')[0] ?? '/';
      let pieces = rendered.get(key);
      if (pieces === undefined) {
        setPageLocals(request, reply);
        pieces = (await app.view(template, { ...reply.locals, cspNonce: NONCE_SLOT, csrfToken: undefined })).split(NONCE_SLOT);
        if (config.production || config.env === 'test') rendered.set(key, pieces);
      }
      return reply.type('text/html; charset=utf-8').send(pieces.join(reply.scriptNonce));
    },
  });
  app.get('/', informationPage('pages/home.njk'));
  for (const page of ['accessibility', 'privacy', 'cookies', 'contact']) app.get(`/${page}`, informationPage(`pages/${page}.njk`));

  // 6. The rest of the site: sessions, form bodies, CSRF, rate limits, and the capabilities.
  await app.register(async (site) => {
    // Sessions in the database; cookies HttpOnly, SameSite=Lax, Secure over HTTPS.
    await site.register(fastifyCookie);
    await site.register(fastifySession, {
      secret: config.sessionSecret,
      cookieName: 'borough_session',
      store: new DatabaseSessionStore(database.db, SESSION_IDLE_MS),
      saveUninitialized: false,
      rolling: true,
      cookie: { httpOnly: true, sameSite: 'lax', secure: secureCookies, maxAge: SESSION_IDLE_MS, path: '/' },
    });
    site.addHook('onRequest', async (request) => {
      const session = request.session;
      // Absolute timeout: however active, a signed-in session ends SESSION_ABSOLUTE_MS after sign-in.
      if (session?.startedAt && Date.now() - session.startedAt > SESSION_ABSOLUTE_MS) await session.regenerate();
    });

    // Every state-changing request carries the session's CSRF token.
    await site.register(fastifyFormbody, { bodyLimit: BODY_LIMIT_BYTES });
    await site.register(fastifyCsrf, {
      sessionPlugin: '@fastify/session',
      getToken: (req) => (req.body as Record<string, string> | undefined)?._csrf ?? (req.headers['x-csrf-token'] as string | undefined) ?? '',
    });
    site.addHook('preHandler', (request, reply, done) => {
      if (!UNSAFE.has(request.method) || request.routeOptions.config?.csrf === false) return done();
      site.csrfProtection(request, reply, done);
    });

    // Rate limits are set per route (sign-in, registration, links); none globally. On a PostgreSQL
    // server the counts are shared by every web process; the embedded database has one process.
    await site.register(fastifyRateLimit, {
      global: false,
      // The plugin's types leave out the window and maximum it passes to a store's incr.
      ...(config.databaseUrl
        ? { store: databaseRateLimitStore(database.db as unknown as Kysely<object>) as unknown as fastifyRateLimit.FastifyRateLimitStoreCtor }
        : {}),
      errorResponseBuilder: (_req, context) => {
        const err = new HttpError(429, 'Too many requests');
        (err as HttpError & { retryAfter?: string }).retryAfter = context.after;
        return err;
      },
    });

    for (const m of modules) await site.register(async (scope) => m.register(scope));
  });

  return app as unknown as FastifyInstance;
}

const NONCE_SLOT = '__borough_csp_nonce__';
const NOTHING_ALLOWED = "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'";

/** The headers every response carries, whatever it is. */
function securityHeaders(production: boolean): Record<string, string> {
  return {
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'origin-agent-cluster': '?1',
    'referrer-policy': 'same-origin',
    ...(production ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
    'x-content-type-options': 'nosniff',
    'x-dns-prefetch-control': 'off',
    'x-download-options': 'noopen',
    'x-frame-options': 'SAMEORIGIN',
    'x-permitted-cross-domain-policies': 'none',
    // The browser's old XSS auditor did more harm than good; the policy above does its job.
    'x-xss-protection': '0',
  };
}

/** Nonces from a pool of cryptographically random bytes, refilled as it runs out. */
let noncePool = Buffer.alloc(0);
let nonceOffset = 0;
function nextNonce(): string {
  if (nonceOffset + 16 > noncePool.length) {
    noncePool = randomBytes(16 * 1024);
    nonceOffset = 0;
  }
  const nonce = noncePool.toString('base64', nonceOffset, nonceOffset + 16);
  nonceOffset += 16;
  return nonce;
}

function contentSecurityPolicy(production: boolean, tileOrigin: string | undefined): (nonce: string) => string {
  const before = "default-src 'self';script-src 'self' 'nonce-";
  // A configured base map's tiles are the only images from elsewhere.
  const after = `';style-src 'self';img-src 'self' data:${tileOrigin ? ` ${tileOrigin}` : ''};font-src 'self';connect-src 'self';form-action 'self';frame-ancestors 'none';object-src 'none';base-uri 'none'${production ? ';upgrade-insecure-requests' : ''}`;
  return (nonce) => before + nonce + after;
}

/**
 * Whether the database answers, asked at most once a second however many health checks arrive:
 * load balancers and monitors poll this, and it must not itself load the database.
 */
function databaseHealth(pool: Platform['database']['pool'], maxAgeMs = 1000) {
  let last: { at: number; ok: boolean } | undefined;
  let inFlight: Promise<boolean> | undefined;
  const fresh = () => (last && Date.now() - last.at < maxAgeMs ? last.ok : undefined);
  return {
    /** The answer of a check made within the last `maxAgeMs`, if there was one. */
    known: fresh,
    check(): Promise<boolean> {
      const ok = fresh();
      if (ok !== undefined) return Promise.resolve(ok);
      inFlight ??= databaseAnswers(pool).then((answered) => {
        last = { at: Date.now(), ok: answered };
        inFlight = undefined;
        return answered;
      });
      return inFlight;
    },
  };
}

function statusOf(error: unknown): number {
  const e = error as { statusCode?: number; code?: string };
  if (e.code?.startsWith('FST_CSRF')) return 403;
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 413;
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600) return e.statusCode;
  return 500;
}

async function renderErrorPage(request: FastifyRequest, reply: FastifyReply, error: unknown): Promise<FastifyReply> {
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
