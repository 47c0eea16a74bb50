import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSealed, seal, sealingKey, unseal } from './sealed.js';

test('a sealed value opens with the same key and purpose only, and shows nothing of the plaintext', () => {
  const key = sealingKey('a'.repeat(40), 'staff-totp');
  const sealed = seal(key, 'JBSWY3DPEHPK3PXP');
  assert.ok(isSealed(sealed));
  assert.ok(!sealed.includes('JBSWY3DPEHPK3PXP'));
  assert.notEqual(seal(key, 'JBSWY3DPEHPK3PXP'), sealed, 'a fresh IV each time');
  assert.equal(unseal(key, sealed), 'JBSWY3DPEHPK3PXP');
  assert.throws(() => unseal(sealingKey('a'.repeat(40), 'other-purpose'), sealed));
  assert.throws(() => unseal(sealingKey('b'.repeat(40), 'staff-totp'), sealed));
  const [v, iv, body, tag] = sealed.split('.');
  const changed = Buffer.from(body ?? '', 'base64url');
  changed[0] = (changed[0] ?? 0) ^ 1;
  const flipped = `${v}.${iv}.${changed.toString('base64url')}.${tag}`;
  assert.throws(() => unseal(key, flipped), 'a changed value is refused');
  assert.equal(isSealed('JBSWY3DPEHPK3PXP'), false);
  assert.throws(() => unseal(key, 'JBSWY3DPEHPK3PXP'));
});
