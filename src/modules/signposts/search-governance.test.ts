import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { projectRoot } from '#platform/config/index';
import type { StaffMember } from '#modules/account/index';
import type { Purpose } from './service.js';

const purpose: Purpose = { reference: 'REF-2002', reason: 'Checking a housing referral before a visit' };

describe('Signposts search explanations and hidden addresses', () => {
  let t: TestApp;
  let councilDir: string;
  const staff: Record<string, StaffMember> = {};

  before(async () => {
    // A council like the demo one whose housing addresses only the safeguarding lead may see.
    councilDir = mkdtempSync(path.join(tmpdir(), 'borough-council-'));
    cpSync(path.join(projectRoot, 'council'), councilDir, { recursive: true });
    const file = path.join(councilDir, 'signposts', 'sources.json');
    const register = JSON.parse(readFileSync(file, 'utf8')) as { sources: { code: string; sensitive?: unknown }[] };
    for (const source of register.sources) if (source.code === 'housing') source.sensitive = { fields: ['address'], roles: ['safeguarding-lead'] };
    writeFileSync(file, JSON.stringify(register, null, 2));
    t = await createTestApp({ seedDemo: true, env: { BOROUGH_COUNCIL_DIR: councilDir } });
    for (const role of ['safeguarding-officer', 'safeguarding-lead']) {
      const member = await t.services.account.staff.findMemberByEmail(`${role}@kingsmere.example`);
      assert.ok(member, role);
      staff[role] = member;
    }
    const loaded = await t.services.signposts.service.ingest({
      source: 'housing',
      format: 'csv',
      fileName: 'housing.csv',
      via: 'command line',
      loadedBy: 'test',
      text: [
        'tenant_ref,first_names,surname,previous_surname,dob,property_address,postcode,uprn,ni_number,action_ref,action,action_date,notes,status,housing_officer,housing_officer_email,tenancy_ref',
        'T-1,Niamh,Gallagher,,1990-06-12,"7 Weaver Row, Kingsmere",KM3 5TR,,,A-1,Rent arrears letter,2025-09-01,First letter sent,open,Dee Marsh,dee.marsh@kingsmere.example,TEN-1',
      ].join('\n'),
    });
    assert.equal(loaded.added, 1, JSON.stringify(loaded));
  });
  after(async () => {
    await t?.close();
    rmSync(councilDir, { recursive: true, force: true });
  });

  const descriptions = async (role: string) => {
    const results = await t.services.signposts.service.search(staff[role] as StaffMember, purpose, { name: 'Niamh Gallagher', postcode: 'KM3 5TR' });
    assert.equal(results.length > 0, true, `${role} finds the tenant`);
    return results[0]?.agreement.map((a) => a.description) ?? [];
  };

  test('the safeguarding lead, who may see the address, is told the postcode matches', async () => {
    assert.deepEqual(await descriptions('safeguarding-lead'), ['Forename: exact match', 'Surname: exact match', 'Postcode: exact match']);
  });

  test('an officer, who may not see the address, is not told whether it matches', async () => {
    assert.deepEqual(await descriptions('safeguarding-officer'), ['Forename: exact match', 'Surname: exact match']);
  });
});
