using Dclm.Models.Adapters;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using static Dclm.Models.Tests.LogitDifference;

namespace Dclm.Models.Tests;

/// <summary>
/// LoRA adapters served through the projection seam: in one step, each sequence gets its own adapter or the bare base,
/// and each equals the model whose weights are W + s·B·A (the oracle, computed in double) run alone.
/// </summary>
public sealed unsafe class AdapterSetTests : IDisposable
{
    private readonly NativeMatrices _matrices = new();

    public static TheoryData<string> Architectures() => ["OpenLm", "Llama"];

    private static ModelConfig ConfigOf(string name)
    {
        var llama = ModelConfig.OpenLm(dim: 64, layers: 2, heads: 4, vocabularySize: 97, contextLength: 64)
            with { KeyValueHeads = 2, Architecture = Architecture.Llama, Norm = NormKind.RmsNorm, QueryKeyNorm = QueryKeyNorm.None };
        return name == "Llama" ? llama : ModelConfig.OpenLm(dim: 64, layers: 2, heads: 4, vocabularySize: 97, contextLength: 64);
    }

    /// <summary>A random adapter on <paramref name="targets"/> of every layer, rank 3, big enough to move the logits.</summary>
    internal static LoraWeights RandomAdapter(ModelConfig config, LoraTarget[] targets, int seed, float scale = 1.5f)
    {
        var random = new Random(seed);
        float[] Values(int count) => Enumerable.Range(0, count).Select(_ => (random.NextSingle() - 0.5f) * 0.4f).ToArray();
        const int rank = 3;
        var updates = new List<LoraUpdate>();
        for (int layer = 0; layer < config.Layers; layer++)
            foreach (var target in targets)
            {
                var (rows, columns) = LoraTargets.Shape(target, config);
                updates.Add(new LoraUpdate(layer, target, Values(rank * columns), Values(rows * rank), rank, scale));
            }
        return new LoraWeights(config, updates);
    }

    // Prefill chunks of three sequences in one step: slot 0 (4 tokens), slot 1 (5), slot 2 (3).
    private static readonly int[][] Prompts = [[5, 17, 33, 2], [90, 60, 3, 3, 88], [41, 7, 19]];

    private static ForwardBatch ThreeSequences()
    {
        var tokens = Prompts.SelectMany(p => p).ToArray();
        return new ForwardBatch
        {
            Tokens = tokens,
            Positions = Prompts.SelectMany(p => Enumerable.Range(0, p.Length)).ToArray(),
            Slots = Prompts.SelectMany((p, slot) => Enumerable.Repeat(slot, p.Length)).ToArray(),
            LogitRows = Enumerable.Range(0, tokens.Length).ToArray(),
        };
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void EachSequenceOfABatchGetsItsOwnAdapterAsMergedWeightsWould(string architecture)
    {
        var config = ConfigOf(architecture);
        using var model = SyntheticModel.Create(config, seed: 3);
        var plain = Logits(model, ThreeSequences(), slots: 3);
        var first = RandomAdapter(config, LoraTargets.All, seed: 4);
        var second = RandomAdapter(config, [LoraTarget.Key, LoraTarget.Value, LoraTarget.Up], seed: 5, scale: 4f);
        var set = new AdapterSet(model);
        Assert.Equal(1, set.Add("first", first));
        Assert.Equal(2, set.Add("second", second));
        // Slot 0 on the base, slot 1 on the first adapter, slot 2 on the second; both layer schedules.
        set.Assign(0, 0);
        set.Assign(1, 1);
        set.Assign(2, 2);
        int vocabulary = config.VocabularySize, start1 = Prompts[0].Length * vocabulary, start2 = start1 + Prompts[1].Length * vocabulary;
        // The oracle: each adapted sequence alone on its merged weights.
        using var mergedFirst = Merged(config, model.Weights, first);
        using var mergedSecond = Merged(config, model.Weights, second);
        var alone1 = Logits(mergedFirst, ForwardBatch.Sequence(Prompts[1], 0, allLogits: true), slots: 1);
        var alone2 = Logits(mergedSecond, ForwardBatch.Sequence(Prompts[2], 0, allLogits: true), slots: 1);
        foreach (var mode in new[] { LayerParallelism.Rows, LayerParallelism.Sequences })
        {
            model.LayerParallelism = mode;
            var mixed = Logits(model, ThreeSequences(), slots: 3);
            Assert.Equal(plain[..start1], mixed[..start1]);
            Assert.True(MaxRelativeDifference(plain[start1..start2], mixed[start1..start2]) > 1e-2, "the first adapter must change its sequence");
            Assert.True(MaxRelativeDifference(plain[start2..], mixed[start2..]) > 1e-2, "the second adapter must change its sequence");
            double error1 = MaxRelativeDifference(alone1, mixed[start1..start2]), error2 = MaxRelativeDifference(alone2, mixed[start2..]);
            Assert.True(error1 < 1e-5, $"{mode}: first adapter vs merged: {error1:E2}");
            Assert.True(error2 < 1e-5, $"{mode}: second adapter vs merged: {error2:E2}");
        }
    }

    [Fact]
    public void UseEverywhereServesOneAdapterToEverySlotAndZeroRestoresTheBase()
    {
        var config = ConfigOf("Llama");
        using var model = SyntheticModel.Create(config, seed: 6);
        var batch = ForwardBatch.Sequence(Prompts[1], 0, allLogits: true);
        var plain = Logits(model, batch, slots: 1);
        var adapter = RandomAdapter(config, [LoraTarget.Query, LoraTarget.Output, LoraTarget.Down], seed: 7);
        var set = new AdapterSet(model);
        int id = set.Add("only", adapter);
        Assert.Equal(plain, Logits(model, batch, slots: 1)); // added but not used: the base's bits
        set.UseEverywhere(id);
        using var merged = Merged(config, model.Weights, adapter);
        Assert.True(MaxRelativeDifference(Logits(merged, batch, slots: 1), Logits(model, batch, slots: 1)) < 1e-5);
        set.UseEverywhere(0);
        Assert.Equal(plain, Logits(model, batch, slots: 1));
    }

    /// <summary>An adapter whose arrays change in place (one being trained) serves its new values after Refresh, and only then.</summary>
    [Fact]
    public void RefreshServesValuesChangedInPlace()
    {
        var config = ConfigOf("OpenLm");
        using var model = SyntheticModel.Create(config, seed: 8);
        var batch = ForwardBatch.Sequence(Prompts[0], 0, allLogits: true);
        var adapter = RandomAdapter(config, LoraTargets.All, seed: 9);
        var set = new AdapterSet(model);
        set.UseEverywhere(set.Add("trained", adapter));
        var before = Logits(model, batch, slots: 1);
        var changed = RandomAdapter(config, LoraTargets.All, seed: 10);
        for (int i = 0; i < adapter.Updates.Count; i++)
        {
            changed.Updates[i].A.CopyTo(adapter.Updates[i].A, 0);
            changed.Updates[i].B.CopyTo(adapter.Updates[i].B, 0);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Refresh(2));
        set.Refresh(1);
        using var merged = Merged(config, model.Weights, changed);
        var after = Logits(model, batch, slots: 1);
        Assert.NotEqual(before, after);
        Assert.True(MaxRelativeDifference(Logits(merged, batch, slots: 1), after) < 1e-5);
    }

    [Fact]
    public void AdaptersForAnotherModelOrUnderATakenNameAreRefused()
    {
        var config = ConfigOf("Llama");
        using var model = SyntheticModel.Create(config);
        var set = new AdapterSet(model);
        set.Add("a", RandomAdapter(config, [LoraTarget.Query], 1));
        Assert.Contains("already loaded", Assert.Throws<ArgumentException>(() => set.Add("a", RandomAdapter(config, [LoraTarget.Key], 2))).Message);
        var other = config with { Layers = 3 };
        Assert.Contains("another model", Assert.Throws<ArgumentException>(() => set.Add("b", RandomAdapter(other, [LoraTarget.Query], 3))).Message);
        // An update whose shape is not the target's cannot even be made into an adapter.
        var wrong = new LoraUpdate(0, LoraTarget.Key, new float[2 * 64], new float[64 * 2], 2, 1f);
        Assert.Contains("the model's k is 32 × 64", Assert.Throws<ArgumentException>(() => new LoraWeights(config, [wrong])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Assign(0, 2));
        Assert.Equal(1, set.Find("a"));
        Assert.Equal(0, set.Find("b"));
    }

    /// <summary>The model whose adapted matrices are W + s·B·A, summed in double and stored as f32.</summary>
    private DecoderModel Merged(ModelConfig config, ModelWeights weights, LoraWeights adapter)
    {
        WeightMatrix Apply(int layer, LoraTarget target, WeightMatrix m)
        {
            var updates = adapter.For(layer, target);
            if (updates.Count == 0) return m;
            var values = new float[m.Rows * m.Columns];
            for (int r = 0; r < m.Rows; r++) Dequantize.Row(m, r, values.AsSpan(r * m.Columns, m.Columns));
            foreach (var u in updates)
                for (int o = 0; o < u.Rows; o++)
                    for (int i = 0; i < u.Inputs; i++)
                    {
                        double sum = 0;
                        for (int k = 0; k < u.Rank; k++) sum += (double)u.B[o * u.Rank + k] * u.A[k * u.Inputs + i];
                        values[o * u.Inputs + i] = (float)(values[o * u.Inputs + i] + u.Scale * sum);
                    }
            return Matrix(values, m.Rows, m.Columns);
        }
        var layers = weights.Layers.Select((l, i) => new LayerWeights
        {
            AttentionNorm = l.AttentionNorm, QueryNorm = l.QueryNorm, KeyNorm = l.KeyNorm, FeedForwardNorm = l.FeedForwardNorm,
            Query = Apply(i, LoraTarget.Query, l.Query), Key = Apply(i, LoraTarget.Key, l.Key), Value = Apply(i, LoraTarget.Value, l.Value),
            Output = Apply(i, LoraTarget.Output, l.Output), Gate = Apply(i, LoraTarget.Gate, l.Gate), Up = Apply(i, LoraTarget.Up, l.Up),
            Down = Apply(i, LoraTarget.Down, l.Down),
        }).ToArray();
        return new DecoderModel(config, new ModelWeights(weights.TokenEmbedding, layers, weights.FinalNorm, weights.Output));
    }

    private static float[] Logits(DecoderModel model, ForwardBatch batch, int slots)
    {
        var logits = new float[batch.LogitRows.Length * model.Config.VocabularySize];
        model.Forward(batch, model.CreateCache(slots), logits);
        return logits;
    }

    private WeightMatrix Matrix(float[] values, int rows, int columns) => _matrices.F32(values, rows, columns);

    public void Dispose() => _matrices.Dispose();
}
