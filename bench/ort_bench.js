#!/usr/bin/env node
// Times ONNX Runtime's CPU inference (onnxruntime-node) on models in the ONNX
// test-data layout, for scripts/bench-sim.sh.  One line per model:
//   NAME ort_ms=MEDIAN ort_min_ms=MIN
// over RUNS timed runs after two warm-up runs, with graph
// optimisations at level 'all' (ONNX Runtime's default), the CPU execution
// provider, sequential execution, and THREADS intra-op threads (0: ONNX
// Runtime's default, one per physical core).
//
// usage: ORT_DIR=DIR node ort_bench.js [--runs N] [--threads T] MODELDIR...
'use strict';

const fs = require('fs');
const path = require('path');

const ortDir = process.env.ORT_DIR || path.join(__dirname, '..', '.cache', 'ort');
const ort = require(require.resolve('onnxruntime-node', { paths: [ortDir] }));

// The fields of onnx.TensorProto these models use: dims (1), data_type (2),
// name (8), raw_data (9).  Anything else is refused.
function readVarint(buf, at) {
  let v = 0n, shift = 0n, b;
  do {
    if (at.pos >= buf.length) throw new Error('truncated varint');
    b = buf[at.pos++];
    v |= BigInt(b & 0x7f) << shift;
    shift += 7n;
  } while (b & 0x80);
  return v;
}

const TYPES = { 1: ['float32', Float32Array], 6: ['int32', Int32Array], 7: ['int64', BigInt64Array] };

function readTensor(file) {
  const buf = fs.readFileSync(file);
  const at = { pos: 0 };
  const t = { dims: [], type: 0, name: '', raw: null };
  while (at.pos < buf.length) {
    const key = Number(readVarint(buf, at));
    const field = key >> 3, wire = key & 7;
    if (field === 1 && wire === 0) t.dims.push(Number(BigInt.asIntN(64, readVarint(buf, at))));
    else if (field === 1 && wire === 2) {
      const end = Number(readVarint(buf, at)) + at.pos;
      while (at.pos < end) t.dims.push(Number(BigInt.asIntN(64, readVarint(buf, at))));
    } else if (field === 2 && wire === 0) t.type = Number(readVarint(buf, at));
    else if ((field === 8 || field === 9) && wire === 2) {
      const n = Number(readVarint(buf, at));
      const bytes = buf.subarray(at.pos, at.pos + n);
      at.pos += n;
      if (field === 8) t.name = bytes.toString('utf8');
      else t.raw = bytes;
    } else throw new Error(`${file}: unsupported field ${field}`);
  }
  const spec = TYPES[t.type];
  if (!spec || !t.raw) throw new Error(`${file}: need raw_data of float32, int32 or int64`);
  const copy = new ArrayBuffer(t.raw.length);
  new Uint8Array(copy).set(t.raw);
  return { name: t.name, tensor: new ort.Tensor(spec[0], new spec[1](copy), t.dims) };
}

function inputsOf(dir) {
  const set = path.join(dir, 'test_data_set_0');
  const out = [];
  for (let i = 0; fs.existsSync(path.join(set, `input_${i}.pb`)); i++) out.push(readTensor(path.join(set, `input_${i}.pb`)));
  return out;
}

const median = (v) => { const s = [...v].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

async function timeSession(model, feeds, runs, extra) {
  const s = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all', executionProviders: ['cpu'], logSeverityLevel: 3, ...extra });
  const named = {};
  feeds.forEach((f, i) => { named[s.inputNames.includes(f.name) ? f.name : s.inputNames[i]] = f.tensor; });
  for (let i = 0; i < 2; i++) await s.run(named);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await s.run(named);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  await s.release();
  return { median: median(times), min: Math.min(...times) };
}

async function main() {
  const args = process.argv.slice(2);
  let runs = 10, threads = 1;
  for (;;) {
    if (args[0] === '--runs') runs = Number(args[1]);
    else if (args[0] === '--threads') threads = Number(args[1]);
    else break;
    args.splice(0, 2);
  }
  if (!args.length || !(runs >= 1) || !(threads >= 0)) {
    console.error('usage: node ort_bench.js [--runs N] [--threads T] MODELDIR...');
    return 2;
  }
  for (const dir of args) {
    const model = path.join(dir, 'model.onnx');
    const t = await timeSession(model, inputsOf(dir), runs,
      { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' });
    console.log(`${path.basename(path.resolve(dir))} ort_ms=${t.median.toFixed(3)} ort_min_ms=${t.min.toFixed(3)}`);
  }
  return 0;
}

main().then((rc) => { process.exitCode = rc; }, (e) => { console.error(e.stack || e); process.exitCode = 1; });
