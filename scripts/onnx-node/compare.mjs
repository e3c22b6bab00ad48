// Prints max |a - b| / max |b| over two float32 little-endian files of equal length (b the reference); exits 1 above LIMIT.
// Usage: node compare.mjs A.f32 B.f32 [LIMIT=1e-4]
import { readFileSync } from 'node:fs';

const [a, b, limit = '1e-4'] = process.argv.slice(2);
const floats = path => { const bytes = readFileSync(path); return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4); };
const x = floats(a), y = floats(b);
if (x.length !== y.length) { console.error(`${a} holds ${x.length} values, ${b} ${y.length}`); process.exit(1); }
let diff = 0, scale = 0;
for (let i = 0; i < x.length; i++) { diff = Math.max(diff, Math.abs(x[i] - y[i])); scale = Math.max(scale, Math.abs(y[i])); }
const relative = diff / scale;
console.log(`max relative difference ${relative.toExponential(2)} over ${x.length} logits (limit ${limit})`);
process.exit(relative <= Number(limit) ? 0 : 1);
