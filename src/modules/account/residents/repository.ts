import type { Kysely, Selectable, Transaction, Updateable } from 'kysely';
import type { AccountTables, ResidentAddress, ResidentsTable } from '../migrations.js';

export type Resident = Selectable<ResidentsTable>;

/** A transaction over the account tables; passed on to the audit log and the notification outbox. */
export type ResidentTx = Transaction<AccountTables>;

export interface NewResident {
  email: string;
  passwordHash: string | null;
  verified?: boolean;
  isDemo?: boolean;
  name?: string | null;
  phone?: string | null;
  address?: ResidentAddress | null;
}

export type ResidentPatch = Omit<Updateable<ResidentsTable>, 'id' | 'created_at' | 'address'> & { address?: ResidentAddress | null };

export interface ResidentRepository {
  transaction<T>(work: (tx: ResidentTx) => Promise<T>): Promise<T>;
  byId(id: string, tx?: ResidentTx): Promise<Resident | undefined>;
  byEmail(email: string, tx?: ResidentTx): Promise<Resident | undefined>;
  /** Locks the row for the rest of the transaction, so concurrent sign-in failures count correctly. */
  byIdForUpdate(tx: ResidentTx, id: string): Promise<Resident | undefined>;
  insert(tx: ResidentTx, resident: NewResident): Promise<Resident>;
  update(tx: ResidentTx, id: string, patch: ResidentPatch): Promise<Resident | undefined>;
  remove(tx: ResidentTx, id: string): Promise<boolean>;
  /** Records a one-time link as used. False when it had been used already. */
  useLink(tx: ResidentTx, tokenHash: string, expiresAt: Date): Promise<boolean>;
  linkUsed(tokenHash: string): Promise<boolean>;
  purgeExpiredLinks(): Promise<number>;
}

export function createResidentRepository(database: Kysely<object>): ResidentRepository {
  const db = database.withTables<AccountTables>();
  const on = (tx?: ResidentTx): Kysely<AccountTables> => tx ?? db;

  const toColumns = (patch: ResidentPatch): Updateable<ResidentsTable> => {
    const { address, ...rest } = patch;
    const columns: Record<string, unknown> = { ...rest, updated_at: new Date() };
    if (address !== undefined) columns.address = address === null ? null : JSON.stringify(address);
    return columns as Updateable<ResidentsTable>;
  };

  return {
    transaction(work) {
      return db.transaction().execute(work);
    },

    byId(id, tx) {
      if (!isUuid(id)) return Promise.resolve(undefined);
      return on(tx).selectFrom('residents').selectAll().where('id', '=', id).executeTakeFirst();
    },

    byEmail(email, tx) {
      return on(tx).selectFrom('residents').selectAll().where('email', '=', email.trim()).executeTakeFirst();
    },

    byIdForUpdate(tx, id) {
      if (!isUuid(id)) return Promise.resolve(undefined);
      return tx.selectFrom('residents').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    },

    async insert(tx, r) {
      const now = new Date();
      return tx
        .insertInto('residents')
        .values({
          email: r.email.trim(),
          password_hash: r.passwordHash,
          email_verified_at: r.verified ? now : null,
          is_demo: r.isDemo ?? false,
          name: r.name ?? null,
          phone: r.phone ?? null,
          address: (r.address ? JSON.stringify(r.address) : null) as never,
        } as never)
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    update(tx, id, patch) {
      return tx.updateTable('residents').set(toColumns(patch)).where('id', '=', id).returningAll().executeTakeFirst();
    },

    async remove(tx, id) {
      const r = await tx.deleteFrom('residents').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    async useLink(tx, tokenHash, expiresAt) {
      const r = await tx
        .insertInto('used_link_tokens')
        .values({ token_hash: tokenHash, expires_at: expiresAt, used_at: new Date() })
        .onConflict((oc) => oc.column('token_hash').doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    async linkUsed(tokenHash) {
      const row = await db.selectFrom('used_link_tokens').select('token_hash').where('token_hash', '=', tokenHash).executeTakeFirst();
      return row !== undefined;
    },

    async purgeExpiredLinks() {
      const r = await db.deleteFrom('used_link_tokens').where('expires_at', '<', new Date()).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
