import type { Kysely, Selectable, Transaction } from 'kysely';
import type { AccountTables, ApiKeysTable } from '../migrations.js';

export type ApiKeyRow = Selectable<ApiKeysTable>;

export interface NewApiKeyRow {
  name: string;
  prefix: string;
  secretHash: string;
  scopes: string[];
  createdBy: string | null;
  expiresAt: Date | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Everything about API keys that touches the database. */
export class ApiKeyRepository {
  private readonly db: Kysely<AccountTables>;

  constructor(db: Kysely<object> | Kysely<AccountTables>) {
    this.db = (db as Kysely<object>).withTables<AccountTables>();
  }

  /** Runs `work` in one transaction, with a repository bound to it and the transaction for the audit log. */
  async transaction<T>(work: (repo: ApiKeyRepository, tx: Kysely<object>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (tx: Transaction<AccountTables>) => work(new ApiKeyRepository(tx), tx as unknown as Kysely<object>));
  }

  /** Inserts the key unless its prefix is taken; undefined when it is, so the caller can draw another. */
  async insert(key: NewApiKeyRow): Promise<ApiKeyRow | undefined> {
    return this.db
      .insertInto('api_keys')
      .values({
        name: key.name,
        prefix: key.prefix,
        secret_hash: key.secretHash,
        scopes: key.scopes,
        created_by: key.createdBy,
        expires_at: key.expiresAt,
      })
      .onConflict((oc) => oc.column('prefix').doNothing())
      .returningAll()
      .executeTakeFirst();
  }

  async findById(id: string): Promise<ApiKeyRow | undefined> {
    if (!UUID.test(id)) return undefined;
    return this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findByPrefix(prefix: string): Promise<ApiKeyRow | undefined> {
    return this.db.selectFrom('api_keys').selectAll().where('prefix', '=', prefix).executeTakeFirst();
  }

  /** Newest first; revoked keys stay listed so their history can be read. */
  async list(): Promise<ApiKeyRow[]> {
    return this.db.selectFrom('api_keys').selectAll().orderBy('created_at', 'desc').orderBy('name').execute();
  }

  /** Revokes the key unless it already was; true when this call revoked it. */
  async revoke(id: string, at: Date, by: string | null): Promise<boolean> {
    const r = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: at, revoked_by: by })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Records use, unless another request already did within `minIntervalMs` (so busy clients cause few writes). */
  async touch(id: string, at: Date, minIntervalMs: number): Promise<void> {
    const before = new Date(at.getTime() - minIntervalMs);
    await this.db
      .updateTable('api_keys')
      .set({ last_used_at: at })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', before)]))
      .execute();
  }
}
