import type { LightMyRequestResponse } from 'fastify';
import type { TestApp, TestClient } from './app.js';

/** A file as a browser sends it from a file input. */
export interface UploadedFile {
  /** The file input's name. */
  name: string;
  filename: string;
  type: string;
  bytes: Buffer | string;
}

/**
 * Posts a multipart form as a browser does for a page with a file upload: the CSRF token from the
 * client's last page, the fields, then the file if there is one, with the client's cookies.
 * The response does not change the client's cookies or last page.
 */
export function postMultipart(
  t: TestApp,
  client: TestClient,
  url: string,
  fields: Record<string, string>,
  opts: { file?: UploadedFile; remoteAddress?: string } = {},
): Promise<LightMyRequestResponse> {
  const boundary = '----boroughTestBoundary';
  const parts: Buffer[] = Object.entries({ _csrf: client.csrf(), ...fields }).map(([name, value]) =>
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
  );
  const { file } = opts;
  if (file)
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.name}"; filename="${file.filename}"\r\nContent-Type: ${file.type}\r\n\r\n`),
      Buffer.from(file.bytes),
      Buffer.from('\r\n'),
    );
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  return t.app.inject({
    method: 'POST',
    url,
    ...(opts.remoteAddress ? { remoteAddress: opts.remoteAddress } : {}),
    payload: Buffer.concat(parts),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, cookie },
  });
}
