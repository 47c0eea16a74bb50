// A resident's browser for benchmarks: its own connections and cookie jar, posting forms the way
// the platform's pages do (CSRF token, URL-encoded or multipart bodies), behind a TLS-ending proxy.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { request } from './harness.mjs';

export class WalkError extends Error {}

/** The text of a GOV.UK error summary in a page, to explain a refused answer. */
export function errorSummary(html) {
  const match = /<div class="govuk-error-summary"[\s\S]*?<\/ul>/.exec(html);
  if (!match) return '';
  return match[0]
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

export function csrfOf(html, where) {
  const match = /<input type="hidden" name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new WalkError(`${where}: no CSRF token in the page`);
  return match[1];
}

export function multipartBody(fields, emptyFile) {
  const boundary = `----bench${randomBytes(12).toString('hex')}`;
  const parts = fields.map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  if (emptyFile)
    parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="${emptyFile}"; filename=""\r\nContent-Type: application/octet-stream\r\n\r\n\r\n`);
  return { body: `${parts.join('')}--${boundary}--\r\n`, contentType: `multipart/form-data; boundary=${boundary}` };
}

export class Browser {
  /** Every request any browser sends, for request rates. */
  static requests = 0;

  /** `forwardedFor`: the resident's own address, as a trusted reverse proxy in front of the platform would pass it on. */
  constructor(port, { forwardedFor } = {}) {
    this.port = port;
    this.forwardedFor = forwardedFor;
    // Two sockets at most, so a double press really is two requests in flight at once.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    this.cookies = new Map();
  }

  get cookieHeader() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  keepCookies(setCookie) {
    for (const line of setCookie ?? []) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async send(method, urlPath, { body, contentType } = {}) {
    const headers = {
      accept: 'text/html',
      // The platform runs as deployed, behind a proxy that ends TLS: its session cookie is Secure.
      'x-forwarded-proto': 'https',
      ...(this.forwardedFor ? { 'x-forwarded-for': this.forwardedFor } : {}),
      ...(this.cookies.size ? { cookie: this.cookieHeader } : {}),
      ...(contentType ? { 'content-type': contentType } : {}),
    };
    Browser.requests++;
    const response = await request({ port: this.port, method, path: urlPath, headers, body, agent: this.agent });
    this.keepCookies(response.headers['set-cookie']);
    return response;
  }

  async page(urlPath) {
    const response = await this.send('GET', urlPath);
    if (response.status !== 200)
      throw new WalkError(`GET ${urlPath} answered ${response.status}${response.headers.location ? ` -> ${response.headers.location}` : ''}`);
    return response.body;
  }

  /** Posts a form and expects a 303; resolves with where it leads and the response time. */
  async post(urlPath, fields, { multipart = false, emptyFile } = {}) {
    const encoded = multipart
      ? multipartBody(fields, emptyFile)
      : { body: new URLSearchParams(fields).toString(), contentType: 'application/x-www-form-urlencoded' };
    const response = await this.send('POST', urlPath, encoded);
    if (response.status !== 303) {
      const summary = response.status === 400 ? errorSummary(response.body) : '';
      throw new WalkError(`POST ${urlPath} answered ${response.status}${summary ? `: ${summary}` : ''}`);
    }
    return { location: response.headers.location, ms: response.ms };
  }

  close() {
    this.agent.destroy();
  }
}
