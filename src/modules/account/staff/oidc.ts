import * as client from 'openid-client';

/** What the council's identity provider is and how Borough is registered with it. */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
}

/** Kept in the session between sending someone to the identity provider and their return. */
export interface OidcPending {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  startedAt: number;
}

/** Who the identity provider says signed in. */
export interface OidcIdentity {
  subject: string;
  email: string | undefined;
  emailVerified: boolean;
  name: string | undefined;
}

export interface OidcSignIn {
  /** Where to send the browser, and what to keep in the session to check the answer. */
  start(returnTo: string): Promise<{ url: string; pending: OidcPending }>;
  /** Checks the identity provider's answer (state, nonce, PKCE, ID token) and says who signed in. */
  finish(callbackUrl: URL, pending: OidcPending): Promise<OidcIdentity>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Plain HTTP is accepted only for an identity provider on this machine (development and tests). */
export function isLoopbackIssuer(issuer: string): boolean {
  const url = new URL(issuer);
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

/**
 * Staff single sign-on by OpenID Connect: authorization code flow with PKCE, state and nonce.
 * The provider's metadata is discovered on first use and kept; a failed discovery is retried next time.
 */
export function createOidcSignIn(settings: OidcSettings, redirectUri: string): OidcSignIn {
  let configuration: Promise<client.Configuration> | undefined;

  function discover(): Promise<client.Configuration> {
    configuration ??= client
      .discovery(
        new URL(settings.issuer),
        settings.clientId,
        { redirect_uris: [redirectUri], response_types: ['code'] },
        client.ClientSecretBasic(settings.clientSecret),
        isLoopbackIssuer(settings.issuer) ? { execute: [client.allowInsecureRequests] } : undefined,
      )
      .catch((error: unknown) => {
        configuration = undefined;
        throw error;
      });
    return configuration;
  }

  return {
    async start(returnTo) {
      const config = await discover();
      const codeVerifier = client.randomPKCECodeVerifier();
      const pending: OidcPending = {
        state: client.randomState(),
        nonce: client.randomNonce(),
        codeVerifier,
        returnTo,
        startedAt: Date.now(),
      };
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid email profile',
        response_type: 'code',
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state: pending.state,
        nonce: pending.nonce,
      });
      return { url: url.href, pending };
    },

    async finish(callbackUrl, pending) {
      const config = await discover();
      const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (!claims) throw new Error('The identity provider returned no ID token');
      let email = typeof claims.email === 'string' ? claims.email : undefined;
      let emailVerified = claims.email_verified === true;
      let name = typeof claims.name === 'string' ? claims.name : undefined;
      if (!email) {
        // Many providers put email only in the userinfo response for the code flow.
        const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
        email = typeof info.email === 'string' ? info.email : undefined;
        emailVerified = info.email_verified === true;
        name ??= typeof info.name === 'string' ? info.name : undefined;
      }
      return { subject: claims.sub, email, emailVerified, name };
    },
  };
}
