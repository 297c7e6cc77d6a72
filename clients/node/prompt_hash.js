'use strict';
// CallRecord.prompt_hash, the same in every language: the first 16 hex digits of the
// sha256 of the rendered messages' canonical JSON, as the Python client computes it
// (json.dumps with sort_keys, "," and ":" separators, non-ASCII kept as UTF-8).
// tests/data/prompt_hash_vectors.json holds cases both clients must reproduce.
//
// One difference JSON itself cannot hide: Python writes a float with an integral
// value as "1.0" and JavaScript as "1"; chat messages carry strings, so it does not
// arise in practice.

const crypto = require('node:crypto');

// Python sorts keys by code point; JavaScript's default sort compares UTF-16 units,
// which orders characters outside the Basic Multilingual Plane differently.
function byCodePoint(a, b) {
  const x = Array.from(a, (c) => c.codePointAt(0));
  const y = Array.from(b, (c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i += 1) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

/** The canonical JSON text of a value: sorted keys, no whitespace. */
function canonicalJson(value) {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort(byCodePoint);
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** prompt_hash of the messages actually sent to the model. */
function promptHash(messages) {
  return crypto.createHash('sha256').update(canonicalJson(messages), 'utf8').digest('hex').slice(0, 16);
}

module.exports = { canonicalJson, promptHash };
