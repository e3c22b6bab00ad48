using Dclm.Models;
using Dclm.Models.Adapters;

namespace Dclm.Gpu.Conformance;

/// <summary>
/// Random LoRA adapters for the device checks, from a fixed seed: A ~ U(±√(3/inputs)), so A·x has about the spread of
/// one input value, and B scaled so s·B·(A·x) has a standard deviation of about 0.5, enough to move every logit.
/// </summary>
internal static class SyntheticAdapters
{
    /// <summary>
    /// Rank 5 (not a multiple of the kernel's dots per pass) on all seven targets of every layer, scale 2. For open_lm,
    /// q, k and v share one A, and gate and up another, as a PEFT adapter of the fused in_proj and w12 reads
    /// (<c>PeftAdapter</c>), so the device's value pool holds the shared A once.
    /// </summary>
    public static LoraWeights EveryTarget(ModelConfig config, int seed)
    {
        const int rank = 5;
        const float scale = 2f;
        var random = new Random(seed);
        bool fused = config.Architecture == Architecture.OpenLm;
        var updates = new List<LoraUpdate>();
        for (int layer = 0; layer < config.Layers; layer++)
        {
            float[]? queryKeyValueA = fused ? Down(random, rank, config.Dim) : null, gateUpA = fused ? Down(random, rank, config.Dim) : null;
            foreach (var target in LoraTargets.All)
            {
                var (rows, columns) = LoraTargets.Shape(target, config);
                var a = target switch
                {
                    LoraTarget.Query or LoraTarget.Key or LoraTarget.Value when queryKeyValueA is not null => queryKeyValueA,
                    LoraTarget.Gate or LoraTarget.Up when gateUpA is not null => gateUpA,
                    _ => Down(random, rank, columns),
                };
                updates.Add(new LoraUpdate(layer, target, a, Up(random, rows, rank, scale), rank, scale));
            }
        }
        return new LoraWeights(config, updates);
    }

    /// <summary>
    /// Rank 67 (two of the kernel's 64-rank passes) on k, v, up and down, scale 0.5, with a second rank-3 update of v
    /// after the first: two updates of one projection add in order, as the CPU engine adds them.
    /// </summary>
    public static LoraWeights Wide(ModelConfig config, int seed)
    {
        const int rank = 67;
        const float scale = 0.5f;
        var random = new Random(seed);
        var updates = new List<LoraUpdate>();
        for (int layer = 0; layer < config.Layers; layer++)
        {
            foreach (var target in new[] { LoraTarget.Key, LoraTarget.Value, LoraTarget.Up, LoraTarget.Down })
            {
                var (rows, columns) = LoraTargets.Shape(target, config);
                updates.Add(new LoraUpdate(layer, target, Down(random, rank, columns), Up(random, rows, rank, scale), rank, scale));
            }
            var (valueRows, valueColumns) = LoraTargets.Shape(LoraTarget.Value, config);
            updates.Add(new LoraUpdate(layer, LoraTarget.Value, Down(random, 3, valueColumns), Up(random, valueRows, 3, 1f), 3, 1f));
        }
        return new LoraWeights(config, updates);
    }

    /// <summary>A (rank, inputs), U(±√(3/inputs)).</summary>
    private static float[] Down(Random random, int rank, int inputs) => Uniform(random, rank * inputs, MathF.Sqrt(3f / inputs));

    /// <summary>B (rows, rank), U(±c) with rank·s²·c²/3 = 0.25.</summary>
    private static float[] Up(Random random, int rows, int rank, float scale) => Uniform(random, rows * rank, 0.5f * MathF.Sqrt(3f / rank) / scale);

    private static float[] Uniform(Random random, int count, float halfWidth) =>
        Enumerable.Range(0, count).Select(_ => halfWidth * (2 * random.NextSingle() - 1)).ToArray();
}
