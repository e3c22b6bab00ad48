// Measures the KV blocks and bytes one sequence holds with a rolling and a full cache (docs/models.md, "Sliding windows").
// Usage: dotnet run bench/window-kv/measure.cs -c Release -- MODEL.gguf POSITIONS WINDOW
#:project ../../src/Dclm.Models/Dclm.Models.csproj
#:project ../../src/Dclm.Checkpoints/Dclm.Checkpoints.csproj
using Dclm.Models;
using Dclm.Checkpoints;
// KV blocks and bytes one sequence holds while decoding token by token, rolling vs full, for a windowed model.
string path = args[0];
using var loaded = ModelLoader.Load(path);
// The model's own weights with a sliding window imposed (the cache's memory does not depend on how it was trained).
var config = loaded.Model.Config with { SlidingWindow = int.Parse(args[2]) };
var model = new DecoderModel(config, loaded.Model.Weights);
int window = config.SlidingWindow, blockSize = 16, positions = int.Parse(args[1]);
var rolling = new KvCache(config, 1, positions, blockSize, positions / blockSize, KvCacheType.F32, rolling: true);
var full = new KvCache(config, 1, positions, blockSize, positions / blockSize, KvCacheType.F32, rolling: false);
long perBlock = KvCache.BytesPerBlock(config, blockSize, KvCacheType.F32);
var logits = new float[config.VocabularySize];
var reference = new float[config.VocabularySize];
double maxDiff = 0;
Console.WriteLine($"window {window}, block {blockSize}, {perBlock} bytes per block");
Console.WriteLine("positions\trolling blocks\trolling KiB\tfull blocks\tfull KiB");
for (int p = 0; p < positions; p++)
{
    int token = (p * 7919 + 13) % config.VocabularySize;
    model.Forward(ForwardBatch.Sequence([token], p), rolling, logits);
    model.Forward(ForwardBatch.Sequence([token], p), full, reference);
    for (int i = 0; i < logits.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(logits[i] - reference[i]));
    int n = p + 1;
    if ((n & (n - 1)) == 0 && n >= 16 || n == positions)
        Console.WriteLine($"{n}\t{rolling.UsedBlocks}\t{rolling.UsedBlocks * perBlock / 1024}\t{full.UsedBlocks}\t{full.UsedBlocks * perBlock / 1024}");
}
Console.WriteLine($"largest |rolling - full| logit difference: {maxDiff}");
