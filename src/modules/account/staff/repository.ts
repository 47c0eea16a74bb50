import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { AccountTables, StaffUsersTable, TeamsTable } from '../migrations.js';

export type StaffUserRow = Selectable<StaffUsersTable>;
export type TeamRow = Selectable<TeamsTable>;
export type StaffStatus = 'invited' | 'active' | 'disabled';

export interface StaffFilter {
  role?: string | undefined;
  team?: string | undefined;
  status?: StaffStatus | undefined;
}

export interface NewStaffUser {
  email: string;
  name: string;
  roles: string[];
  teams: string[];
  status?: StaffStatus;
  passwordHash?: string | null;
  totpSecret?: string | null;
  isDemo?: boolean;
  invitedBy?: string | null;
}

/** Everything about staff users and teams that touches the database. */
export class StaffRepository {
  private readonly db: Kysely<AccountTables>;

  constructor(db: Kysely<object> | Kysely<AccountTables>) {
    this.db = (db as Kysely<object>).withTables<AccountTables>();
  }

  /**
   * Runs `work` in one transaction. It gets a repository bound to the transaction and the
   * transaction itself, for the audit log and the notification outbox to write in it too.
   */
  async transaction<T>(work: (repo: StaffRepository, tx: Kysely<object>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (tx: Transaction<AccountTables>) => work(new StaffRepository(tx), tx as unknown as Kysely<object>));
  }

  async findById(id: string): Promise<StaffUserRow | undefined> {
    if (!isUuid(id)) return undefined;
    return this.db.selectFrom('staff_users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findByEmail(email: string): Promise<StaffUserRow | undefined> {
    return this.db.selectFrom('staff_users').selectAll().where('email', '=', email.trim()).executeTakeFirst();
  }

  async findByOidcSubject(subject: string): Promise<StaffUserRow | undefined> {
    return this.db.selectFrom('staff_users').selectAll().where('oidc_subject', '=', subject).executeTakeFirst();
  }

  async list(filter: StaffFilter = {}): Promise<StaffUserRow[]> {
    let q = this.db.selectFrom('staff_users').selectAll();
    if (filter.role) q = q.where(sql<boolean>`${filter.role} = ANY(roles)`);
    if (filter.team) q = q.where(sql<boolean>`${filter.team} = ANY(teams)`);
    if (filter.status) q = q.where('status', '=', filter.status);
    return q.orderBy('name').orderBy('email').execute();
  }

  async insert(user: NewStaffUser): Promise<StaffUserRow> {
    return this.db
      .insertInto('staff_users')
      .values({
        email: user.email.trim(),
        name: user.name.trim(),
        roles: user.roles,
        teams: user.teams,
        status: user.status ?? 'invited',
        password_hash: user.passwordHash ?? null,
        totp_secret: user.totpSecret ?? null,
        totp_enrolled_at: user.totpSecret ? new Date() : null,
        is_demo: user.isDemo ?? false,
        invited_by: user.invitedBy ?? null,
      } as never)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Inserts unless a user with the email exists; true when inserted. */
  async insertIfAbsent(user: NewStaffUser): Promise<boolean> {
    const r = await this.db
      .insertInto('staff_users')
      .values({
        email: user.email.trim(),
        name: user.name.trim(),
        roles: user.roles,
        teams: user.teams,
        status: user.status ?? 'invited',
        password_hash: user.passwordHash ?? null,
        totp_secret: user.totpSecret ?? null,
        totp_enrolled_at: user.totpSecret ? new Date() : null,
        is_demo: user.isDemo ?? false,
      } as never)
      .onConflict((oc) => oc.column('email').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async updateAccess(id: string, roles: string[], teams: string[]): Promise<void> {
    await this.db
      .updateTable('staff_users')
      .set({ roles, teams, updated_at: new Date() } as never)
      .where('id', '=', id)
      .execute();
  }

  async setStatus(id: string, status: StaffStatus): Promise<void> {
    await this.db.updateTable('staff_users').set({ status, updated_at: new Date() }).where('id', '=', id).execute();
  }

  async setPassword(id: string, passwordHash: string): Promise<void> {
    await this.db.updateTable('staff_users').set({ password_hash: passwordHash, updated_at: new Date() }).where('id', '=', id).execute();
  }

  async clearTotp(id: string): Promise<void> {
    await this.db
      .updateTable('staff_users')
      .set({ totp_secret: null, totp_last_step: null, totp_enrolled_at: null, updated_at: new Date() })
      .where('id', '=', id)
      .execute();
  }

  /** Replaces a secret stored before sealing with its sealed form, unless it has changed meanwhile. */
  async sealTotp(id: string, plain: string, sealed: string): Promise<void> {
    await this.db.updateTable('staff_users').set({ totp_secret: sealed }).where('id', '=', id).where('totp_secret', '=', plain).execute();
  }

  async enrolTotp(id: string, secret: string, step: number): Promise<void> {
    await this.db
      .updateTable('staff_users')
      .set({ totp_secret: secret, totp_last_step: step, totp_enrolled_at: new Date(), updated_at: new Date() })
      .where('id', '=', id)
      .execute();
  }

  /**
   * Records the time step of a code just used, only if it is later than the last one. False when
   * another request used the same (or a later) step first, so a code works once even under a race.
   */
  async claimTotpStep(id: string, step: number): Promise<boolean> {
    const r = await this.db
      .updateTable('staff_users')
      .set({ totp_last_step: step })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async recordFailure(id: string, failures: number, at: Date, lockedUntil: Date | null): Promise<void> {
    await this.db
      .updateTable('staff_users')
      .set({ failed_sign_ins: failures, last_failed_sign_in_at: at, locked_until: lockedUntil })
      .where('id', '=', id)
      .execute();
  }

  async recordSignIn(id: string, at: Date, changes: { status?: StaffStatus; oidcSubject?: string } = {}): Promise<void> {
    await this.db
      .updateTable('staff_users')
      .set({
        failed_sign_ins: 0,
        locked_until: null,
        last_failed_sign_in_at: null,
        last_sign_in_at: at,
        ...(changes.status ? { status: changes.status, updated_at: at } : {}),
        ...(changes.oidcSubject ? { oidc_subject: changes.oidcSubject } : {}),
      })
      .where('id', '=', id)
      .execute();
  }

  /** Marks a one-time link as used; false when it already was. */
  async useLinkToken(tokenHash: string, expiresAt: Date): Promise<boolean> {
    const r = await this.db
      .insertInto('used_link_tokens')
      .values({ token_hash: tokenHash, expires_at: expiresAt } as never)
      .onConflict((oc) => oc.column('token_hash').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async linkTokenUsed(tokenHash: string): Promise<boolean> {
    const row = await this.db.selectFrom('used_link_tokens').select('token_hash').where('token_hash', '=', tokenHash).executeTakeFirst();
    return Boolean(row);
  }

  async teams(): Promise<TeamRow[]> {
    return this.db.selectFrom('teams').selectAll().orderBy('name').execute();
  }

  async upsertTeam(code: string, name: string): Promise<void> {
    await this.db
      .insertInto('teams')
      .values({ code, name })
      .onConflict((oc) => oc.column('code').doUpdateSet({ name }))
      .execute();
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
