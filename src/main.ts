import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { loadConfig, type Config } from '#platform/config/index';
import { loadCouncil } from '#platform/council/index';
import { migrateToLatest, openDatabase } from '#platform/db/index';
import { lockDataFolder } from '#platform/lock/index';
import { createLogger } from '#platform/logging/index';
import type { Platform } from '#platform/platform';
import { allMigrations, buildServices, seedDemoCouncil, webModules, type Services } from './services.js';

export type Role = 'all' | 'web' | 'worker';

export interface Running {
  platform: Platform;
  services: Services;
  app: FastifyInstance | undefined;
  stop(): Promise<void>;
}

/**
 * Composition root: config -> lock -> database -> migrations -> services -> app -> roles.
 * Embedded mode (no DATABASE_URL) runs web and worker in this one process.
 */
export async function start(role: Role = 'all', env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Promise<Running> {
  const t0 = performance.now();
  const config = { ...loadConfig(env, { persistSecret: true }), ...overrides };
  const logger = createLogger({ level: config.logLevel });
  if (!config.databaseUrl && role !== 'all') {
    throw new Error(`The ${role} role needs DATABASE_URL: the embedded database runs web and worker together (use "borough start").`);
  }
  const lock = config.databaseUrl ? undefined : lockDataFolder(config.dataDir);
  const council = loadCouncil(config.councilDir);
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.databaseUrl ? undefined : `${config.dataDir}/pgdata` });
  const applied = await migrateToLatest(database.db, allMigrations());
  if (applied.length) logger.info({ migrations: applied.length }, 'database migrated');

  const platform: Platform = { config, council, database, logger };
  const services = await buildServices(platform);
  if (config.demo) await seedDemoCouncil(platform, services);

  if (role !== 'web') await services.startWorker();
  let app: FastifyInstance | undefined;
  if (role !== 'worker') {
    app = await buildApp(platform, webModules(platform, services));
    await app.listen({ port: config.port, host: config.host });
  }
  logger.info({ role, database: database.kind, ms: Math.round(performance.now() - t0) }, `Borough is running at ${config.baseUrl}`);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await app?.close();
      await services.stopWorker();
      await database.close();
      lock?.release();
    })());
  return { platform, services, app, stop };
}
