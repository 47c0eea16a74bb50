import type { Config } from '#platform/config/index';
import type { Council } from '#platform/council/index';
import type { Database } from '#platform/db/index';
import type { Logger } from '#platform/logging/index';

/**
 * The shared platform services every capability is given. Built once in main.ts
 * (and over a fresh database in tests); capabilities never build their own.
 */
export interface Platform {
  config: Config;
  council: Council;
  database: Database;
  logger: Logger;
}

/** A navigation link in the resident or staff header. */
export interface NavItem {
  href: string;
  text: string;
  active?: boolean;
}
