'use strict';
// tests/data/prompt_hash_vectors.json, written by the Python client: the canonical JSON
// and the hash of each case, reproduced byte for byte.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { canonicalJson, promptHash } = require('../prompt_hash');

const VECTORS = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, '../../../tests/data/prompt_hash_vectors.json'), 'utf8'),
);

test('every shared prompt-hash vector gives the same canonical JSON and hash as Python', () => {
  assert.ok(VECTORS.length >= 8);
  for (const v of VECTORS) {
    assert.equal(canonicalJson(v.messages), v.canonical);
    assert.equal(promptHash(v.messages), v.prompt_hash);
  }
});

test('keys sort by code point, as Python sorts them, not by UTF-16 unit', () => {
  // U+FF21 sorts before U+1F600 by code point, after it by UTF-16 unit (0xD83D).
  assert.equal(canonicalJson({ '😀': 1, 'Ａ': 2 }), '{"Ａ":2,"😀":1}');
});
