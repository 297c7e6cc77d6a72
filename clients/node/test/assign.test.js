'use strict';
// The cross-language assignment contract: tests/data/assignment_vectors.json, written
// by the Python side, reproduced by assign.js bit for bit (bucket and variant).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { assign, bucketOf, indexForBucket, thresholdsOf } = require('../assign');

const VECTORS_FILE = path.resolve(__dirname, '../../../tests/data/assignment_vectors.json');
const VECTORS = JSON.parse(fs.readFileSync(VECTORS_FILE, 'utf8'));

test('every shared test vector gets the same bucket and variant as in Python', () => {
  assert.ok(VECTORS.length > 1000, `only ${VECTORS.length} vectors`);
  for (const v of VECTORS) {
    const got = assign(v.experiment_id, v.variants, v.user_id);
    assert.equal(got.bucket, v.bucket, `bucket of ${JSON.stringify(v)}`);
    assert.equal(got.variant, v.variant, `variant of ${JSON.stringify(v)}`);
  }
});

test('the bucket is the first 8 hex digits of sha256("exp:user") over 0xFFFFFFFF', () => {
  // printf 'exp:user' | sha256sum -> 4e81881e3b5b...
  assert.equal(bucketOf('exp', 'user'), 0x4e81881e / 0xffffffff);
});

test('thresholds are cumulated one division at a time, left to right', () => {
  const total = 0.1 + 0.2 + 0.3;
  const first = 0.1 / total;
  const second = first + 0.2 / total;
  assert.deepEqual(thresholdsOf([0.1, 0.2, 0.3]), [first, second, second + 0.3 / total]);
});

test('a bucket above a last threshold rounded below 1 falls back to the last variant', () => {
  // These weights leave the last threshold at 0.9999999999999999 (found by search).
  const thresholds = thresholdsOf([0.4161799388943461, 0.9162698355052942]);
  assert.ok(thresholds[1] < 1);
  assert.equal(indexForBucket(thresholds, 1), 1);
  assert.equal(indexForBucket(thresholds, thresholds[0]), 0);
  assert.equal(indexForBucket(thresholds, 0), 0);
});

test('weights that are not positive and finite are refused', () => {
  for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '1']) {
    assert.throws(() => assign('e', [{ name: 'a', weight: bad }], 'u'), RangeError);
  }
  assert.throws(() => assign('e', [], 'u'), RangeError);
});
