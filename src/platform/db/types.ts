export interface QueryResultLike {
  rows: Record<string, unknown>[];
  rowCount: number;
  command: string;
}

export interface SqlClient {
  query(sql: string, params?: readonly unknown[]): Promise<QueryResultLike>;
  release(): void;
}

/** The subset of a node-postgres Pool that Kysely and pg-boss need. */
export interface SqlPool {
  kind: 'embedded' | 'postgres';
  connect(): Promise<SqlClient>;
  query(sql: string, params?: readonly unknown[]): Promise<QueryResultLike>;
  end(): Promise<void>;
  /**
   * Whether the database finished a query in the last `ms`. The embedded database has one connection: while a large
   * load holds it, a health check waits, yet the database is plainly working.
   */
  answeredWithin?(ms: number): boolean;
}
