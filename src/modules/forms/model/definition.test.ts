import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CURRENT_SCHEMA_VERSION, formDefinitionJsonSchema, formDefinitionSchema, parseFormDefinition, upgradeDefinition } from './definition.js';
import { referralForm } from './fixture.test-support.js';

describe('form definition schema', () => {
  test('accepts a full definition and fills in defaults', () => {
    const definition = formDefinitionSchema.parse({ ...referralForm(), deliveries: undefined });
    assert.equal(definition.pages.length, 6);
    assert.deepEqual(definition.deliveries, []);
  });
  test('refuses missing pages, bad slugs, bad exits and unknown properties', () => {
    for (const change of [{ pages: [] }, { slug: 'Refer A Family' }, { colour: 'blue' }, { schemaVersion: 3 }]) {
      assert.equal(formDefinitionSchema.safeParse({ ...referralForm(), ...change }).success, false, JSON.stringify(change));
    }
    const form = referralForm();
    const exitPage = form.pages[1];
    assert.ok(exitPage);
    exitPage.routes = [{ goTo: { exit: 'javascript:alert(1)' } }];
    assert.equal(formDefinitionSchema.safeParse(form).success, false);
  });
});

describe('upgrading older definitions', () => {
  const version1 = {
    schemaVersion: 1,
    id: 'contact',
    slug: 'contact',
    title: 'Contact us',
    pages: [
      { id: 'enquiry', slug: 'enquiry', title: 'Your enquiry', components: [{ type: 'textarea', id: 'enquiry', label: 'Your enquiry' }], next: 'contact' },
      { id: 'contact', slug: 'contact', title: 'Your details', components: [{ type: 'email', id: 'email', label: 'Email' }], next: 'check-answers' },
    ],
  };
  test('version 1 `next` becomes a route', () => {
    const upgraded = upgradeDefinition(version1) as { schemaVersion: number; pages: { routes?: unknown; next?: unknown }[] };
    assert.equal(upgraded.schemaVersion, CURRENT_SCHEMA_VERSION);
    assert.deepEqual(upgraded.pages[0]?.routes, [{ goTo: 'contact' }]);
    assert.equal(upgraded.pages[1]?.next, undefined);
    assert.equal(parseFormDefinition(version1).success, true);
  });
  test('a definition without a version is taken as version 1; the original is not changed', () => {
    const { schemaVersion: _version, ...unversioned } = version1;
    assert.equal(parseFormDefinition(unversioned).success, true);
    assert.equal(version1.pages[0]?.next, 'contact');
  });
  test('current and unknown versions pass through unchanged', () => {
    const current = referralForm();
    assert.equal(upgradeDefinition(current), current);
    assert.deepEqual(upgradeDefinition({ schemaVersion: 99 }), { schemaVersion: 99 });
    assert.equal(upgradeDefinition('nonsense'), 'nonsense');
  });
});

describe('JSON Schema', () => {
  test('is published from the same schema', () => {
    const schema = formDefinitionJsonSchema();
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    const properties = schema.properties as Record<string, unknown>;
    assert.ok(properties.pages);
    assert.deepEqual((schema.required as string[]).sort(), ['id', 'pages', 'schemaVersion', 'slug', 'title']);
    assert.match(JSON.stringify(schema), /"dateBefore"/);
    assert.match(JSON.stringify(schema), /"repeatingGroup"/);
  });
});
