import { projectRoot } from '#platform/config/index';
import { loadCouncil } from '#platform/council/index';

const demo = loadCouncil(`${projectRoot}/council`).demoUsers?.staff;
if (!demo) throw new Error('The demo council has no demo staff users');

/** The demo staff users' shared password and authenticator secret, from the demo council's data. */
export const DEMO_PASSWORD = demo.password;
export const DEMO_TOTP_SECRET = demo.totpSecret;
