import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real OpenID Connect identity provider (the `oidc-provider` package) on 127.0.0.1 and a random
 * port, for testing staff single sign-on end to end over the actual protocol: discovery, the
 * authorization code flow with PKCE, signed ID tokens and userinfo.
 *
 * People sign in on its own simple page (`/interaction/:uid`) with an email address and password;
 * `signIn()` does that programmatically, following the redirects as a browser would.
 */

export interface TestIdentity {
  subject: string;
  email: string;
  emailVerified?: boolean;
  name?: string;
  password: string;
}

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  addUser(user: TestIdentity): void;
  /**
   * Plays the browser from the authorization URL the app redirected to, signs in as the person,
   * and returns the URL the provider sends the browser back to (the app's redirect URI with a code).
   */
  signIn(authorizationUrl: string, credentials: { email: string; password: string }): Promise<string>;
  close(): Promise<void>;
}

/* The package ships no type declarations: the small part used here is described below. */
interface ProviderInteraction {
  uid: string;
  prompt: { name: string; details: Record<string, unknown> };
  params: Record<string, string>;
  session?: { accountId?: string };
}
interface ProviderLike {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<ProviderInteraction>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options?: { mergeWithLastSubmission?: boolean },
  ): Promise<void>;
  Grant: new (init: { accountId: string; clientId: string }) => { addOIDCScope(scope: string): void; save(): Promise<string> };
  on(event: string, listener: (...args: unknown[]) => void): void;
}
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => ProviderLike;

const PACKAGE = 'oidc-provider';

/** Keeps the provider's state (sessions, codes, grants) in memory, for one test run. */
class MemoryAdapter {
  private static readonly store = new Map<string, { payload: Record<string, unknown>; expiresAt: number }>();
  constructor(private readonly model: string) {}
  private key(id: string): string {
    return `${this.model}:${id}`;
  }
  async upsert(id: string, payload: Record<string, unknown>, expiresIn: number): Promise<void> {
    MemoryAdapter.store.set(this.key(id), { payload, expiresAt: Date.now() + expiresIn * 1000 });
    if (typeof payload.uid === 'string')
      MemoryAdapter.store.set(`${this.model}:uid:${payload.uid}`, { payload: { id }, expiresAt: Date.now() + expiresIn * 1000 });
    if (typeof payload.userCode === 'string')
      MemoryAdapter.store.set(`${this.model}:user:${payload.userCode}`, { payload: { id }, expiresAt: Date.now() + expiresIn * 1000 });
  }
  async find(id: string): Promise<Record<string, unknown> | undefined> {
    const entry = MemoryAdapter.store.get(this.key(id));
    if (!entry || entry.expiresAt < Date.now()) return undefined;
    return entry.payload;
  }
  async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
    const ref = MemoryAdapter.store.get(`${this.model}:uid:${uid}`);
    return ref ? this.find(String(ref.payload.id)) : undefined;
  }
  async findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined> {
    const ref = MemoryAdapter.store.get(`${this.model}:user:${userCode}`);
    return ref ? this.find(String(ref.payload.id)) : undefined;
  }
  async consume(id: string): Promise<void> {
    const entry = MemoryAdapter.store.get(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id: string): Promise<void> {
    MemoryAdapter.store.delete(this.key(id));
  }
  async revokeByGrantId(grantId: string): Promise<void> {
    for (const [key, entry] of MemoryAdapter.store) if (entry.payload.grantId === grantId) MemoryAdapter.store.delete(key);
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(uid: string, error?: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign in - Test identity provider</title></head><body>
<h1>Sign in to your council account</h1>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="email">Email address</label> <input id="email" name="email" type="email" autocomplete="username">
<label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${escapeHtml(uid)}/abort"><button type="submit">Cancel</button></form>
</body></html>`;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startOidcProvider(opts: {
  redirectUri: string;
  users?: TestIdentity[];
  clientId?: string;
  clientSecret?: string;
}): Promise<TestOidcProvider> {
  const { default: Provider } = (await import(PACKAGE)) as { default: ProviderConstructor };
  const clientId = opts.clientId ?? 'borough-staff';
  const clientSecret = opts.clientSecret ?? randomBytes(24).toString('base64url');
  const usersByEmail = new Map<string, TestIdentity>();
  const usersBySubject = new Map<string, TestIdentity>();
  const addUser = (u: TestIdentity) => {
    usersByEmail.set(u.email.toLowerCase(), u);
    usersBySubject.set(u.subject, u);
  };
  for (const u of opts.users ?? []) addUser(u);

  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  const server = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const signingKey = {
    ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
    kid: randomUUID(),
    use: 'sig',
    alg: 'RS256',
  };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [opts.redirectUri],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', 'email', 'profile'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    adapter: MemoryAdapter,
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    async findAccount(_ctx: unknown, sub: string) {
      const user = usersBySubject.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { sub, email: user.email, email_verified: user.emailVerified ?? true, name: user.name ?? user.email };
        },
      };
    },
  });
  // Errors are part of what tests exercise; keep them off the console.
  provider.on('server_error', () => undefined);
  const callback = provider.callback();

  handle = (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const m = /^\/interaction\/([\w-]+)(\/login|\/abort)?$/.exec(url.pathname);
    if (!m) return callback(req, res);
    const [, uid, action] = m as unknown as [string, string, string | undefined];
    void (async () => {
      try {
        const details = await provider.interactionDetails(req, res);
        if (req.method === 'GET' && !action) {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(uid));
          return;
        }
        if (req.method === 'POST' && action === '/abort') {
          await provider.interactionFinished(
            req,
            res,
            { error: 'access_denied', error_description: 'The person cancelled signing in' },
            { mergeWithLastSubmission: false },
          );
          return;
        }
        if (req.method === 'POST' && action === '/login') {
          const form = await readForm(req);
          const user = usersByEmail.get((form.get('email') ?? '').toLowerCase());
          if (!user || user.password !== form.get('password')) {
            res.writeHead(401, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(uid, 'Email address or password is not correct'));
            return;
          }
          // Signing in here also grants the client the scopes it asked for: there is no consent screen.
          const grant = new provider.Grant({ accountId: user.subject, clientId: details.params.client_id ?? clientId });
          grant.addOIDCScope(details.params.scope ?? 'openid');
          const grantId = await grant.save();
          await provider.interactionFinished(req, res, { login: { accountId: user.subject }, consent: { grantId } }, { mergeWithLastSubmission: false });
          return;
        }
        res.writeHead(405).end();
      } catch (err) {
        if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' }).end(`Interaction failed: ${(err as Error).message}`);
      }
    })();
  };

  return {
    issuer,
    clientId,
    clientSecret,
    redirectUri: opts.redirectUri,
    addUser,
    async signIn(authorizationUrl, credentials) {
      const cookies = new Map<string, string>();
      const send = async (url: string, init: RequestInit = {}) => {
        const headers = new Headers(init.headers);
        if (cookies.size) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
        const res = await fetch(url, { ...init, headers, redirect: 'manual' });
        for (const c of res.headers.getSetCookie()) {
          const pair = c.split(';')[0] ?? '';
          const eq = pair.indexOf('=');
          const name = pair.slice(0, eq).trim();
          const value = pair.slice(eq + 1).trim();
          if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) cookies.delete(name);
          else cookies.set(name, value);
        }
        return res;
      };
      let res = await send(authorizationUrl);
      await res.arrayBuffer();
      let location = res.headers.get('location');
      for (let hops = 0; hops < 10 && location; hops++) {
        const next = new URL(location, issuer);
        if (next.origin !== issuer) return next.href;
        res = await send(next.href);
        await res.arrayBuffer();
        if (res.status === 200 && next.pathname.startsWith('/interaction/')) {
          res = await send(`${next.href}/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams(credentials).toString(),
          });
          if (res.status !== 303 && res.status !== 302) throw new Error(`The identity provider refused the sign-in (${res.status})`);
          await res.arrayBuffer();
        }
        location = res.headers.get('location');
      }
      throw new Error(`The identity provider did not send the browser back (last status ${res.status}: ${await res.text().catch(() => '')})`);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
