using Dclm.Checkpoints.Adapters;
using Dclm.Models;
using Dclm.Models.Adapters;

namespace Dclm.Server.Tests;

/// <summary>Random LoRA adapters for the tiny model, in memory and as PEFT directories, strong enough to change greedy replies.</summary>
public static class TinyAdapters
{
    /// <summary>A rank-4 adapter on <paramref name="targets"/> of every layer.</summary>
    public static LoraWeights Random(ModelConfig config, LoraTarget[] targets, int seed)
    {
        var random = new Random(seed);
        float[] Values(int count) => Enumerable.Range(0, count).Select(_ => (random.NextSingle() - 0.5f) * 0.4f).ToArray();
        const int rank = 4;
        var updates = new List<LoraUpdate>();
        for (int layer = 0; layer < config.Layers; layer++)
            foreach (var target in targets)
            {
                var (rows, columns) = LoraTargets.Shape(target, config);
                updates.Add(new LoraUpdate(layer, target, Values(rank * columns), Values(rows * rank), rank, 3f));
            }
        return new LoraWeights(config, updates);
    }

    /// <summary>The adapters of <see cref="Random"/> for seeds 1 and 2 (all seven targets; then k, v, up and down).</summary>
    public static LoraWeights[] Pair(ModelConfig config) =>
        [Random(config, LoraTargets.All, 1), Random(config, [LoraTarget.Key, LoraTarget.Value, LoraTarget.Up, LoraTarget.Down], 2)];

    /// <summary>Writes <paramref name="adapter"/> as a PEFT directory under a new temporary folder and returns its path.</summary>
    public static string Write(LoraWeights adapter, string name)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"dclm-adapters-{Environment.ProcessId}", name);
        PeftAdapter.Write(directory, adapter, "tiny", 0);
        return directory;
    }
}
