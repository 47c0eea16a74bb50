import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildNicknameIndex, defaultNicknames, shareGroup } from './nicknames.js';

const must = <T>(value: T | undefined): T => {
  assert.ok(value !== undefined);
  return value;
};

const same = (a: string, b: string): boolean => shareGroup(defaultNicknames().get(a) ?? [], defaultNicknames().get(b) ?? []);

describe('nicknames', () => {
  it('puts diminutives with their full names', () => {
    assert.ok(same('bill', 'william'));
    assert.ok(same('billy', 'will'));
    assert.ok(same('liam', 'william'));
    assert.ok(same('peggy', 'margaret'));
    assert.ok(same('ned', 'edward'));
    assert.ok(same('harry', 'henry'));
    assert.ok(same('jack', 'john'));
    assert.ok(same('zak', 'zachary'));
    assert.ok(same('polly', 'mary'));
  });

  it('puts transliterations together', () => {
    assert.ok(same('mohammed', 'muhammad'));
    assert.ok(same('mo', 'mohamed'));
    assert.ok(same('yusuf', 'yousef'));
    assert.ok(same('aleksandr', 'alexander'));
  });

  it('keeps unrelated names apart', () => {
    assert.ok(!same('william', 'margaret'));
    assert.ok(!same('john', 'mary'));
    assert.ok(!same('zzzz', 'zzzz'), 'unknown names have no group');
  });

  it('reads both table layouts and skips headers and comments', () => {
    const index = buildNicknameIndex(['name1,relationship,name2\nrobert,has_nickname,bob\n', '# comment\nname,variants\nrobert,rob robbie\nÉmile,emil\n']);
    assert.ok(shareGroup(must(index.get('bob')), must(index.get('robbie'))));
    assert.ok(shareGroup(must(index.get('emile')), must(index.get('emil'))));
    assert.equal(index.get('name1'), undefined);
    assert.equal(index.get('name'), undefined);
  });
});
