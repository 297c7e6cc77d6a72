'use strict';
// Stubs for the llmops services, loaded from protos/ at run time with
// @grpc/proto-loader: nothing to generate, and the .proto files stay the one source
// of truth. (For static JavaScript or TypeScript stubs, run `buf generate` or
// `grpc_tools_node_protoc` over protos/ instead; the messages are the same.)
//
// Loader options, and what they mean for callers:
// * keepCase: field names are the proto's snake_case (`request_id`, `safe_text`),
//   the same names as in every other language's documentation.
// * enums: String: enum values read as their names ('GUARD_ACTION_BLOCK'); requests
//   may use names or numbers.
// * longs: String: int64 fields (token counts, money micros) read as decimal strings,
//   so amounts above 2^53 lose nothing; requests may pass numbers.
// * defaults: true: unset scalar fields read as their zero value, as in proto3.

const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', 'protos');
const PROTO_FILES = ['common', 'guardrail', 'cost', 'drift', 'experiment', 'logsink'].map(
  (name) => `llmops/v1/${name}.proto`,
);

// Same defaults as the Python client and the servers (ports 50051..50055).
const SERVICES = {
  guardrail: { service: 'GuardrailService', env: 'LLMOPS_GUARDRAIL_ADDRESS', port: 50051 },
  cost: { service: 'CostService', env: 'LLMOPS_COST_ADDRESS', port: 50052 },
  drift: { service: 'DriftService', env: 'LLMOPS_DRIFT_ADDRESS', port: 50053 },
  experiment: { service: 'ExperimentService', env: 'LLMOPS_EXPERIMENT_ADDRESS', port: 50054 },
  logsink: { service: 'LogSinkService', env: 'LLMOPS_LOGSINK_ADDRESS', port: 50055 },
};

const packageDefinition = protoLoader.loadSync(PROTO_FILES, {
  includeDirs: [PROTO_ROOT],
  keepCase: true,
  enums: String,
  longs: String,
  defaults: true,
  oneofs: true,
});

/** The `llmops.v1` package: service constructors and message types. */
const v1 = grpc.loadPackageDefinition(packageDefinition).llmops.v1;

// Keepalive every 30 s: above the 10 s minimum the llmops servers accept.
const CHANNEL_OPTIONS = {
  'grpc.keepalive_time_ms': 30000,
  'grpc.keepalive_timeout_ms': 10000,
  'grpc.keepalive_permit_without_calls': 1,
};

/** host:port of a service: the LLMOPS_<NAME>_ADDRESS variable, else localhost:5005x. */
function addressOf(name, env = process.env) {
  const entry = SERVICES[name];
  if (entry === undefined) {
    throw new RangeError(`unknown service ${name}; one of ${Object.keys(SERVICES).join(', ')}`);
  }
  return env[entry.env] || `localhost:${entry.port}`;
}

/**
 * A client (stub) of one service, e.g. `connect('guardrail')`. Create it once and
 * keep it: it holds one long-lived channel. Pass `credentials` for TLS
 * (grpc.credentials.createSsl(root, key, cert)); the default is plaintext.
 */
function connect(name, { address = addressOf(name), credentials } = {}) {
  const Client = v1[SERVICES[name].service];
  return new Client(address, credentials || grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
}

/** Call metadata naming the tenant and/or carrying an API key; pass it to every call. */
function callMetadata({ tenant, apiKey } = {}) {
  const metadata = new grpc.Metadata();
  if (tenant) metadata.set('x-llmops-tenant', tenant);
  if (apiKey) metadata.set('authorization', `Bearer ${apiKey}`);
  return metadata;
}

/** A google.protobuf.Timestamp for a Date (default: now). */
function timestamp(date = new Date()) {
  const millis = date.getTime();
  const seconds = Math.floor(millis / 1000);
  return { seconds, nanos: (millis - seconds * 1000) * 1e6 };
}

/** Call options with a deadline `seconds` from now; every call should carry one. */
function deadline(seconds) {
  return { deadline: new Date(Date.now() + seconds * 1000) };
}

/** Promise form of a unary call: `await unary(client, 'CheckInput', request, metadata, 1)`. */
function unary(client, method, request, metadata, timeoutSeconds) {
  return new Promise((resolve, reject) => {
    client[method](request, metadata, deadline(timeoutSeconds), (error, response) =>
      error ? reject(error) : resolve(response),
    );
  });
}

/**
 * Sends batches of CallRecords on one LogSinkService.StreamRecords stream and waits
 * for every acknowledgement. `batches` is an array of arrays of records; resolves
 * with the acks in order. A record LogSink rejects is reported in its ack (see
 * `results`), never by failing the stream.
 */
function streamRecords(client, batches, metadata, timeoutSeconds) {
  return new Promise((resolve, reject) => {
    const acks = [];
    const call = client.StreamRecords(metadata, deadline(timeoutSeconds));
    call.on('data', (ack) => {
      acks.push(ack);
      if (acks.length === batches.length) call.end();
    });
    call.on('error', reject);
    call.on('end', () => {
      if (acks.length === batches.length) resolve(acks);
      else reject(new Error(`stream closed after ${acks.length} of ${batches.length} acks`));
    });
    batches.forEach((records, i) => call.write({ batch_id: `batch-${i}`, records }));
    if (batches.length === 0) call.end();
  });
}

module.exports = {
  SERVICES,
  PROTO_ROOT,
  grpc,
  v1,
  addressOf,
  connect,
  callMetadata,
  timestamp,
  deadline,
  unary,
  streamRecords,
};
