import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { WebModule } from '../../app.js';
import { projectRoot } from '#platform/config/index';
import { waitUnlessStopping, type Jobs } from '#platform/jobs/index';
import type { Notifier } from '#platform/notify/index';
import type { Platform } from '#platform/platform';
import { ROLES, type Account } from '#modules/account/index';
import { registerSignpostsApi } from './api.js';
import { demoDataset } from './demo-data.js';
import { loadSignpostsConfig } from './model/sources.js';
import { RelinkStopped } from './relink-worker.js';
import { createSignpostsService, type SignpostsService } from './service.js';
import { registerSignpostsRoutes } from './staff-routes.js';

/** How long after the worker starts the demo borough's extracts begin to load. */
const DEMO_LOAD_DELAY_MS = 10_000;
/** How long after the web process is ready the matcher is built, ahead of the first search. */
const WARM_DELAY_MS = 10_000;

export { signpostsMigrations } from './migrations.js';
export { UnknownSource, type SignpostsService, type LoadSummary, type Purpose } from './service.js';

export interface SignpostsDeps {
  platform: Platform;
  jobs: Jobs;
  notifier: Pick<Notifier, 'nudge'>;
  account: Account;
}

export interface Signposts {
  service: SignpostsService;
  web: WebModule;
  startWorker(): Promise<void>;
  /** Loads the demo borough's synthetic agency extracts (never in production: the demo is refused there). */
  seedDemo(opts: { people: number; stopping?: AbortSignal }): Promise<number>;
}

/**
 * Signposts: agency extracts brought together into one view of a child and family for safeguarding
 * triage. Sources and what each role may see are the council's configuration; every search, view and
 * export is audited against the purpose the officer gave.
 */
export function createSignposts(deps: SignpostsDeps): Signposts {
  const { platform, account, jobs } = deps;
  // A council without a register has no sources yet; break-glass alerts then go to its data protection officer.
  const config = loadSignpostsConfig(platform.council.dir, new Set(Object.keys(ROLES))) ?? {
    informationGovernanceLead: { name: 'Data protection officer', email: platform.council.profile.privacy.dpoEmail },
    sources: [],
  };
  const service = createSignpostsService({ platform, config, notifier: deps.notifier });
  account.apiKeys.declareScope({ scope: 'signposts:load', description: 'Load agency extracts into Signposts' });
  for (const entry of [
    { href: '/staff/signposts', text: 'Signposts', permission: 'signposts:search' as const },
    { href: '/staff/signposts/review', text: 'Possible links', permission: 'signposts:review' as const },
    { href: '/staff/signposts/sources', text: 'Signposts sources', permission: 'signposts:govern' as const },
    { href: '/staff/signposts/audit', text: 'Signposts audit', permission: 'signposts:govern' as const },
  ])
    account.staff.addNavigation(entry);
  /** Loads each source's demo extract once; a source already loaded is left alone, so a retry finishes the rest. */
  async function seedDemo({ people, stopping }: { people: number; stopping?: AbortSignal }): Promise<number> {
    if (people <= 0) return 0;
    await service.syncSources();
    const loaded = new Set((await service.recentLoads(1000)).map((l) => l.source_code));
    if (service.sources.every((s) => loaded.has(s.code))) return 0;
    const data = demoDataset({ people });
    for (const extract of data.extracts) {
      if (loaded.has(extract.source)) continue;
      // Stopping part-way is safe: each extract loads whole or not at all, and the next start finishes the rest.
      if (stopping?.aborted) return 0;
      try {
        await service.ingest({
          source: extract.source,
          text: JSON.stringify(extract.rows),
          format: 'json',
          fileName: `demo-${extract.source}.json`,
          via: 'command line',
          loadedBy: 'Demo council',
          stopping,
        });
      } catch (error) {
        // The extract is in; the re-link it set off is left to the next load or the nightly upkeep.
        if (error instanceof RelinkStopped) return 0;
        throw error;
      }
    }
    return data.people;
  }

  return {
    service,
    seedDemo,
    async startWorker() {
      await service.syncSources();
      await jobs.work('signposts-relink', {}, async (_jobs, { stopping }) => {
        const result = await service.relink({ stopping });
        platform.logger.info(result, 'signposts re-linked');
      });
      // Each night: records past their source's retention go, and everything is linked again with a fresh model.
      await jobs.work('signposts-nightly', {}, async (_jobs, { stopping }) => {
        const purged = await service.purgeExpired();
        const relinked = await service.relink({ stopping });
        platform.logger.info({ purged, ...relinked }, 'signposts nightly upkeep done');
      });
      await jobs.schedule('signposts-nightly', '30 2 * * *');
      // The demo borough's agency extracts are large: they load in the background, so the platform answers meanwhile,
      // and only once it has been up a little while, so that its start is not slowed.
      const workerStarted = Date.now();
      // A borough-sized demo (hundreds of thousands of people) takes longer than a job's usual 15 minutes.
      await jobs.createQueue('signposts-demo', { expireInSeconds: 4 * 3600 });
      await jobs.work<{ people: number }>('signposts-demo', {}, async ([job], { stopping }) => {
        // A job queued by a demo start is not run by a later production start on the same database.
        if (!platform.config.demo || platform.config.production) return;
        if (!(await waitUnlessStopping(workerStarted + DEMO_LOAD_DELAY_MS - Date.now(), stopping))) return;
        const people = await seedDemo({ people: job?.data.people ?? 0, stopping });
        if (stopping.aborted) return;
        // Ready for the first search, as after a restart.
        await service.warm();
        platform.logger.info({ people }, 'signposts demo extracts loaded');
      });
      if (platform.config.demo && !platform.config.production && platform.config.demoSignposts > 0)
        await jobs.send('signposts-demo', { people: platform.config.demoSignposts }, { singletonKey: 'signposts-demo' });
    },
    web: {
      name: 'signposts',
      templates: path.join(projectRoot, 'src/modules/signposts/views'),
      async register(app: FastifyInstance) {
        registerSignpostsRoutes(app, { account, service, councilName: platform.council.profile.name });
        registerSignpostsApi(app, service, account);
        // Building the matcher for a borough's records takes seconds to a minute; done once the platform is up,
        // the first search after a restart does not wait for it. It gives way to requests as it goes.
        let warming: NodeJS.Timeout | undefined;
        app.addHook('onReady', async () => {
          warming = setTimeout(() => {
            service.warm().catch((err: unknown) => platform.logger.warn({ err }, 'the Signposts matcher was not built ahead of searches'));
          }, WARM_DELAY_MS);
          warming.unref();
        });
        app.addHook('onClose', async () => clearTimeout(warming));
      },
    },
  };
}
