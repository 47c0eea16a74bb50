import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundedEditDistance, hammingDistance, jaroWinkler, phoneticKey, withinOneEdit } from './strings.js';

const close = (actual: number, expected: number): void => assert.ok(Math.abs(actual - expected) < 0.001, `${actual} is not ${expected}`);

describe('jaroWinkler', () => {
  it('matches the published examples', () => {
    close(jaroWinkler('martha', 'marhta'), 0.961);
    close(jaroWinkler('dwayne', 'duane'), 0.84);
    close(jaroWinkler('dixon', 'dicksonx'), 0.813);
  });

  it('is 1 for equal strings and 0 for empty or unrelated ones', () => {
    assert.equal(jaroWinkler('smith', 'smith'), 1);
    assert.equal(jaroWinkler('', 'smith'), 0);
    assert.equal(jaroWinkler('', ''), 0);
    assert.equal(jaroWinkler('abc', 'xyz'), 0);
  });

  it('gives up early below a minimum without changing results above it', () => {
    assert.equal(jaroWinkler('catherine', 'jones', 0.88), 0);
    assert.equal(jaroWinkler('ab', 'abcdefghij', 0.9), 0);
    close(jaroWinkler('martha', 'marhta', 0.9), 0.961);
    close(jaroWinkler('catherine', 'katherine', 0.92), jaroWinkler('catherine', 'katherine'));
  });

  it('keeps giving the same answers across many calls (reused buffers)', () => {
    const first = jaroWinkler('jonathan', 'johnathan');
    for (let i = 0; i < 1000; i++) jaroWinkler(`name${i}`, `nmae${i}`);
    assert.equal(jaroWinkler('jonathan', 'johnathan'), first);
    close(jaroWinkler('a'.repeat(200), 'a'.repeat(199) + 'b'), jaroWinkler('a'.repeat(200), 'a'.repeat(199) + 'b'));
  });
});

describe('boundedEditDistance', () => {
  it('counts edits up to the limit', () => {
    assert.equal(boundedEditDistance('smith', 'smith'), 0);
    assert.equal(boundedEditDistance('smith', 'smyth'), 1);
    assert.equal(boundedEditDistance('smith', 'simth'), 1);
    assert.equal(boundedEditDistance('smith', 'smit'), 1);
    assert.equal(boundedEditDistance('smith', 'smiths'), 1);
    assert.equal(boundedEditDistance('smith', 'snyth'), 2);
    assert.equal(boundedEditDistance('', 'ab'), 2);
  });

  it('stops beyond the limit', () => {
    assert.equal(boundedEditDistance('smith', 'jones'), 3);
    assert.equal(boundedEditDistance('a', 'abcdef'), 3);
    assert.equal(boundedEditDistance('smith', 'snyte', 1), 2);
  });
});

describe('withinOneEdit and hammingDistance', () => {
  it('agree with the edit distance', () => {
    const words = ['19650112', '19651012', '19560112', '1965012', '196501122', '19650113', '29650112', '91650112', 'abc', 'acb', 'ab', 'abcd', ''];
    for (const a of words) for (const b of words) assert.equal(withinOneEdit(a, b), boundedEditDistance(a, b, 1) <= 1, `${a} ${b}`);
  });

  it('counts differing positions', () => {
    assert.equal(hammingDistance('19650112', '19651012'), 2);
    assert.equal(hammingDistance('abc', 'abcd'), Infinity);
  });
});

describe('phoneticKey', () => {
  it('gives names that sound alike the same key', () => {
    for (const [a, b] of [
      ['smith', 'smyth'],
      ['knight', 'night'],
      ['philip', 'filip'],
      ['catherine', 'kathryn'],
      ['stephen', 'steven'],
      ['macdonald', 'mcdonald'],
      ['jon', 'john'],
      ['kristofer', 'christopher'],
      ['jaxon', 'jackson'],
    ] as [string, string][]) {
      assert.equal(phoneticKey(a), phoneticKey(b), `${a} ${b}`);
    }
  });

  it('keeps different names apart', () => {
    assert.notEqual(phoneticKey('smith'), phoneticKey('jones'));
    assert.notEqual(phoneticKey('mary'), phoneticKey('martin'));
  });

  it('ignores case and punctuation and handles empty input', () => {
    assert.equal(phoneticKey("O'Brien"), phoneticKey('obrien'));
    assert.equal(phoneticKey(''), '');
    assert.equal(phoneticKey('123'), '');
  });
});
