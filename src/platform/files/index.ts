import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sql, type Generated, type Kysely } from 'kysely';
import type { MigrationSet } from '#platform/db/index';

/** Where file bytes live. The local folder is the default; an object store implements the same three calls. */
export interface FileStore {
  put(key: string, bytes: Buffer): Promise<void>;
  get(key: string): Promise<Buffer>;
  delete(key: string): Promise<void>;
}

export class FolderFileStore implements FileStore {
  constructor(private readonly root: string) {}
  private file(key: string): string {
    if (!/^[a-f0-9-]{36}$/.test(key)) throw new Error('Bad file key');
    return path.join(this.root, key.slice(0, 2), key);
  }
  async put(key: string, bytes: Buffer): Promise<void> {
    const f = this.file(key);
    await mkdir(path.dirname(f), { recursive: true });
    await writeFile(f, bytes, { mode: 0o600 });
  }
  get(key: string): Promise<Buffer> {
    return readFile(this.file(key));
  }
  async delete(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }
}

/** File types recognised by their first bytes, never by name or the browser's claim. */
const SIGNATURES: { type: string; label: string; test: (b: Buffer) => boolean }[] = [
  { type: 'image/jpeg', label: 'JPG', test: (b) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { type: 'image/png', label: 'PNG', test: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { type: 'image/gif', label: 'GIF', test: (b) => /^GIF8[79]a/.test(b.subarray(0, 6).toString('latin1')) },
  { type: 'image/webp', label: 'WebP', test: (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP' },
  {
    type: 'image/heic',
    label: 'HEIC',
    test: (b) => b.subarray(4, 8).toString('latin1') === 'ftyp' && /^(heic|heix|mif1|msf1)$/.test(b.subarray(8, 12).toString('latin1')),
  },
  { type: 'application/pdf', label: 'PDF', test: (b) => b.subarray(0, 5).toString('latin1') === '%PDF-' },
  {
    type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    label: 'Word document',
    test: (b) => b.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04])) && b.includes(Buffer.from('word/')),
  },
];

export function sniffContentType(bytes: Buffer): string | null {
  return SIGNATURES.find((s) => s.test(bytes))?.type ?? null;
}

export function typeLabel(type: string): string {
  return SIGNATURES.find((s) => s.type === type)?.label ?? type;
}

export type UploadCheck = { ok: true; contentType: string } | { ok: false; message: string };

/** Checks an upload against allowed types (by content) and a size limit, with GOV.UK error wording. */
export function checkUpload(bytes: Buffer, rules: { allowed: string[]; maxBytes: number }): UploadCheck {
  if (bytes.length === 0) return { ok: false, message: 'The selected file is empty' };
  if (bytes.length > rules.maxBytes) return { ok: false, message: `The selected file must be smaller than ${formatBytes(rules.maxBytes)}` };
  const type = sniffContentType(bytes);
  if (!type || !rules.allowed.includes(type)) {
    const labels = rules.allowed.map(typeLabel);
    const list = labels.length > 1 ? `${labels.slice(0, -1).join(', ')} or ${labels[labels.length - 1]}` : labels[0];
    return { ok: false, message: `The selected file must be a ${list}` };
  }
  return { ok: true, contentType: type };
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.round(n / (1024 * 1024))}MB`;
  return n >= 1024 ? `${Math.round(n / 1024)}KB` : `${n} bytes`;
}

export interface StoredFilesTable {
  id: string;
  content_type: string;
  size: number;
  sha256: string;
  original_name: string | null;
  created_at: Generated<Date>;
}

export const filesMigrations: MigrationSet = {
  migrations: {
    '20261123-04-files': {
      async up(db) {
        await sql`
          CREATE TABLE stored_files (
            id uuid PRIMARY KEY,
            content_type text NOT NULL,
            size integer NOT NULL,
            sha256 text NOT NULL,
            original_name text,
            created_at timestamptz NOT NULL DEFAULT now()
          )
        `.execute(db);
      },
    },
  },
};

export interface StoredFile {
  id: string;
  contentType: string;
  size: number;
  sha256: string;
  originalName: string | null;
}

export interface Files {
  /** Checks and stores an upload; the metadata row is written with the caller's executor (transaction). */
  save(
    executor: Kysely<object>,
    bytes: Buffer,
    opts: { allowed: string[]; maxBytes: number; originalName?: string },
  ): Promise<{ ok: true; file: StoredFile } | { ok: false; message: string }>;
  read(db: Kysely<object>, id: string): Promise<{ file: StoredFile; bytes: Buffer } | null>;
  remove(db: Kysely<object>, id: string): Promise<void>;
}

export function createFiles(store: FileStore): Files {
  const t = (db: Kysely<object>) => db.withTables<{ stored_files: StoredFilesTable }>();
  return {
    async save(executor, bytes, opts) {
      const check = checkUpload(bytes, opts);
      if (!check.ok) return check;
      const id = randomUUID();
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      // Bytes first: a metadata row never points at a missing file.
      await store.put(id, bytes);
      const originalName = opts.originalName ? path.basename(opts.originalName).slice(0, 200) : null;
      await t(executor)
        .insertInto('stored_files')
        .values({ id, content_type: check.contentType, size: bytes.length, sha256, original_name: originalName })
        .execute();
      return { ok: true, file: { id, contentType: check.contentType, size: bytes.length, sha256, originalName } };
    },
    async read(db, id) {
      const row = await t(db).selectFrom('stored_files').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return null;
      return {
        file: { id: row.id, contentType: row.content_type, size: row.size, sha256: row.sha256, originalName: row.original_name },
        bytes: await store.get(id),
      };
    },
    async remove(db, id) {
      await t(db).deleteFrom('stored_files').where('id', '=', id).execute();
      await store.delete(id);
    },
  };
}
