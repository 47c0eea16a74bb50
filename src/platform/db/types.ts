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
}
