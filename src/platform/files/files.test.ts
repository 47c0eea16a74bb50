import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { migrateToLatest, openDatabase, type Database } from '#platform/db/index';
import { checkUpload, createFiles, filesMigrations, FolderFileStore, sniffContentType } from '#platform/files/index';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 1)]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 2)]);
const PDF = Buffer.from('%PDF-1.7\n%...\n');

describe('file type sniffing', () => {
  it('recognises files by their content, not their name', () => {
    assert.equal(sniffContentType(PNG), 'image/png');
    assert.equal(sniffContentType(JPEG), 'image/jpeg');
    assert.equal(sniffContentType(PDF), 'application/pdf');
    assert.equal(sniffContentType(Buffer.from('<html><script>alert(1)</script>')), null);
  });

  it('refuses the wrong type, empty files and files over the limit with GOV.UK wording', () => {
    const images = { allowed: ['image/jpeg', 'image/png'], maxBytes: 100 };
    assert.deepEqual(checkUpload(PNG, images), { ok: true, contentType: 'image/png' });
    assert.deepEqual(checkUpload(PDF, images), { ok: false, message: 'The selected file must be a JPG or PNG' });
    assert.deepEqual(checkUpload(Buffer.alloc(0), images), { ok: false, message: 'The selected file is empty' });
    assert.deepEqual(checkUpload(Buffer.concat([PNG, Buffer.alloc(200)]), images), { ok: false, message: 'The selected file must be smaller than 100 bytes' });
    assert.deepEqual(checkUpload(Buffer.concat([PNG, Buffer.alloc(2 * 1024 * 1024)]), { allowed: ['image/png'], maxBytes: 1024 * 1024 }), {
      ok: false,
      message: 'The selected file must be smaller than 1MB',
    });
  });
});

describe('stored files', () => {
  let database: Database;
  let dir: string;
  before(async () => {
    database = await openDatabase({});
    await migrateToLatest(database.db, [filesMigrations]);
    dir = mkdtempSync(path.join(tmpdir(), 'borough-files-'));
  });
  after(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores bytes under the data folder and reads them back, then removes them', async () => {
    const files = createFiles(new FolderFileStore(dir));
    const saved = await files.save(database.db, PNG, { allowed: ['image/png'], maxBytes: 1000, originalName: '../../etc/photo.png' });
    assert.ok(saved.ok);
    assert.equal(saved.file.originalName, 'photo.png');
    const read = await files.read(database.db, saved.file.id);
    assert.ok(read);
    assert.deepEqual(read.bytes, PNG);
    assert.equal(read.file.contentType, 'image/png');
    await files.remove(database.db, saved.file.id);
    assert.equal(await files.read(database.db, saved.file.id), null);
  });

  it('stores nothing when the upload is refused', async () => {
    const files = createFiles(new FolderFileStore(dir));
    const saved = await files.save(database.db, PDF, { allowed: ['image/png'], maxBytes: 1000 });
    assert.equal(saved.ok, false);
    const n = await database.db.withTables<{ stored_files: { id: string } }>().selectFrom('stored_files').select('id').execute();
    assert.equal(n.length, 0);
  });
});
