// Runs an exported model.onnx in onnxruntime-node (an ONNX Runtime independent of the .NET one) and writes the logits
// of a prompt as float32 little-endian, one row of vocab_size values per position, as `dclm logits` writes them.
// Usage: node logits.mjs DIR "1 2 3" OUT.f32   (DIR holds model.onnx and genai_config.json; batch 1, no past)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';

const [directory, prompt, output] = process.argv.slice(2);
if (!output) { console.error('usage: node logits.mjs DIR "1 2 3" OUT.f32'); process.exit(2); }
const decoder = JSON.parse(readFileSync(join(directory, 'genai_config.json'), 'utf8')).model.decoder;
const ids = prompt.trim().split(/\s+/).map(BigInt);

const session = await ort.InferenceSession.create(join(directory, 'model.onnx'), { intraOpNumThreads: 2 });
const half = session.inputMetadata?.find?.(m => m.name === 'past_key_values.0.key')?.type === 'float16';
const feeds = {
  input_ids: new ort.Tensor('int64', BigInt64Array.from(ids), [1, ids.length]),
  attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
};
for (let i = 0; i < decoder.num_hidden_layers; i++)
  for (const kind of ['key', 'value'])
    feeds[`past_key_values.${i}.${kind}`] = new ort.Tensor(half ? 'float16' : 'float32',
      half ? new Uint16Array(0) : new Float32Array(0), [1, decoder.num_key_value_heads, 0, decoder.head_size]);

const { logits } = await session.run(feeds, ['logits']);
if (logits.type !== 'float32') throw new Error(`logits are ${logits.type}; this script compares float32 exports`);
writeFileSync(output, Buffer.from(logits.data.buffer, logits.data.byteOffset, logits.data.byteLength));
console.log(`${logits.dims.join('x')} logits from onnxruntime-node ${ort.env.versions?.common ?? ''} written to ${output}`);
