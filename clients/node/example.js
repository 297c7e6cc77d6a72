'use strict';
// The two calls an application makes around each LLM call, from Node.js:
//   1. GuardrailService.CheckInput on the hot path, with a short deadline;
//   2. the call record, streamed to LogSinkService.StreamRecords and acknowledged.
//
//   node example.js "What is my order status? My email is jane@example.com"
//
// Addresses come from LLMOPS_GUARDRAIL_ADDRESS / LLMOPS_LOGSINK_ADDRESS (default
// localhost:50051 / localhost:50055); LLMOPS_TENANT and LLMOPS_API_KEY are optional.

const crypto = require('node:crypto');
const llmops = require('./llmops');
const { promptHash } = require('./prompt_hash');

// Guard deadline: the guard sits on the hot path of every call. Whether a failed
// check lets the prompt through (fail open) or not is the application's choice;
// this example fails closed.
const GUARD_TIMEOUT_SECONDS = 1;

async function main(prompt) {
  const metadata = llmops.callMetadata({
    tenant: process.env.LLMOPS_TENANT,
    apiKey: process.env.LLMOPS_API_KEY,
  });
  const guardrail = llmops.connect('guardrail');
  const logsink = llmops.connect('logsink');
  try {
    const started = new Date();
    const verdict = await llmops.unary(
      guardrail,
      'CheckInput',
      { text: prompt },
      metadata,
      GUARD_TIMEOUT_SECONDS,
    );
    console.log(`guard: ${verdict.action} (policy ${verdict.policy}@${verdict.policy_version})`);
    for (const f of verdict.findings) {
      console.log(`  ${f.detector}/${f.type} at [${f.start}, ${f.end}) -> ${f.action}`);
    }
    const blocked = verdict.action === 'GUARD_ACTION_BLOCK';
    // The application would call its LLM here with verdict.safe_text.
    const answer = blocked ? '' : `(answer to: ${verdict.safe_text})`;
    const record = {
      request_id: crypto.randomUUID(),
      timestamp: llmops.timestamp(started),
      model: 'gpt-4o-mini',
      provider: 'openai',
      prompt_template: 'node-example@v1',
      prompt_hash: promptHash([{ role: 'user', content: verdict.safe_text }]),
      usage: { input_tokens: 12, output_tokens: 20, estimated: true },
      latency_ms: Date.now() - started.getTime(),
      status: blocked ? 'CALL_STATUS_FILTERED' : 'CALL_STATUS_SUCCESS',
      user_id: 'node-example-user',
      prompt_text: blocked ? '' : verdict.safe_text,
      response_text: answer,
    };
    const [ack] = await llmops.streamRecords(logsink, [[record]], metadata, 10);
    console.log(
      `logsink: batch ${ack.batch_id} stored=${ack.stored} duplicates=${ack.duplicates} ` +
        `rejected=${ack.rejected} (request_id ${record.request_id})`,
    );
  } finally {
    guardrail.close();
    logsink.close();
  }
}

if (require.main === module) {
  const prompt = process.argv.slice(2).join(' ') || 'Where is my parcel? Reach me at jane@example.com';
  main(prompt).catch((error) => {
    console.error(`llmops example failed: ${error.message}`);
    process.exitCode = 1;
  });
}

module.exports = { main };
