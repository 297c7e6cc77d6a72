'use strict';
// Experiment variant assignment, bit-for-bit the same as services/experiment/assignment.py:
//
//   h = sha256_hex(utf8(experimentId + ":" + userId))
//   bucket = parseInt(h.slice(0, 8), 16) / 0xFFFFFFFF
//   total = sum of the weights, added left to right
//   thresholds: cum += weight / total, left to right, one division at a time
//   the first variant whose threshold >= bucket, else the last
//
// JavaScript numbers are IEEE-754 doubles like Python floats, and every step is the
// same operation in the same order, so the thresholds are the same doubles. Do not
// "simplify" the sums (e.g. cumulate raw weights and divide at the end): a threshold
// one ulp away moves the user whose bucket sits on it.

const crypto = require('node:crypto');

const BUCKET_SCALE = 0xffffffff;

/** The user's bucket in [0, 1] for an experiment; the same in every language. */
function bucketOf(experimentId, userId) {
  const h = crypto.createHash('sha256').update(`${experimentId}:${userId}`, 'utf8').digest('hex');
  return parseInt(h.slice(0, 8), 16) / BUCKET_SCALE;
}

/** Cumulative normalised weights, accumulated exactly as the Python engine does. */
function thresholdsOf(weights) {
  if (weights.length === 0) {
    throw new RangeError('an experiment needs at least one variant');
  }
  let total = 0;
  for (const weight of weights) {
    if (!(typeof weight === 'number' && weight > 0 && Number.isFinite(weight))) {
      throw new RangeError(`weights must be positive and finite, got ${weight}`);
    }
    total += weight;
  }
  const thresholds = [];
  let cumulative = 0;
  for (const weight of weights) {
    cumulative += weight / total;
    thresholds.push(cumulative);
  }
  return thresholds;
}

/**
 * Assigns a user to one of `variants` ([{name, weight}], in the experiment's order).
 * Returns {variant, index, bucket}.
 */
function assign(experimentId, variants, userId) {
  const thresholds = thresholdsOf(variants.map((v) => v.weight));
  const bucket = bucketOf(experimentId, userId);
  const index = indexForBucket(thresholds, bucket);
  return { variant: variants[index].name, index, bucket };
}

/** Index of the first threshold >= bucket, else the last one. */
function indexForBucket(thresholds, bucket) {
  const index = thresholds.findIndex((threshold) => threshold >= bucket);
  // Rounding can leave the last threshold just below 1, and a bucket above it.
  return index === -1 ? thresholds.length - 1 : index;
}

module.exports = { assign, bucketOf, thresholdsOf, indexForBucket, BUCKET_SCALE };
