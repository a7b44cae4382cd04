#!/usr/bin/env node
// ONNX Runtime's graph-optimisation time, the peer bench_engine compares
// graft's rewrite phase with.
//
//   node ort_opt.js MODEL [--runs N]
//       In process, from the model's bytes already in memory: the median
//       session-creation time at graphOptimizationLevel 'disabled' and at
//       'extended' (after one untimed warm-up of each); their difference is
//       the time ONNX Runtime spends optimising the graph.  Prints one JSON
//       object {"disabled_ms", "extended_ms", "optimise_ms"}.
//   node ort_opt.js MODEL --save OUT
//       What a whole optimising process does: load MODEL, optimise it at
//       'extended', save the optimised model to OUT, exit.
//
// onnxruntime-node is looked up in $ORT_DIR, then in the repository's
// .cache/ort (scripts/ort-setup.sh installs it there).

'use strict';

const fs = require('fs');
const path = require('path');

const ORT_DIR = process.env.ORT_DIR || path.join(__dirname, '..', '.cache', 'ort');
const ort = require(require.resolve('onnxruntime-node', { paths: [ORT_DIR, __dirname] }));

function options(level, extra) {
  return { graphOptimizationLevel: level, executionProviders: ['cpu'], logSeverityLevel: 3, ...extra };
}

async function createMs(bytes, level) {
  const t0 = process.hrtime.bigint();
  const s = await ort.InferenceSession.create(bytes, options(level));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  await s.release();
  return ms;
}

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeLevels(model, runs) {
  const bytes = fs.readFileSync(model);
  await createMs(bytes, 'disabled');
  await createMs(bytes, 'extended');
  const off = [], on = [];
  for (let i = 0; i < runs; i++) {
    off.push(await createMs(bytes, 'disabled'));
    on.push(await createMs(bytes, 'extended'));
  }
  const d = median(off), e = median(on);
  return { disabled_ms: d, extended_ms: e, optimise_ms: e - d };
}

async function main() {
  const args = process.argv.slice(2);
  const model = args[0];
  let runs = 9, save = null;
  for (let i = 1; i < args.length; i++) {
    if (args[i] === '--runs') runs = parseInt(args[++i], 10);
    else if (args[i] === '--save') save = args[++i];
    else throw new Error(`unknown argument ${args[i]}`);
  }
  if (!model) throw new Error('usage: node ort_opt.js MODEL [--runs N | --save OUT]');
  if (save) {
    const s = await ort.InferenceSession.create(model, options('extended', { optimizedModelFilePath: save }));
    await s.release();
    return;
  }
  process.stdout.write(JSON.stringify(await timeLevels(model, runs)) + '\n');
}

main().catch((e) => {
  process.stderr.write(`ort_opt.js: ${e.message}\n`);
  process.exit(2);
});
