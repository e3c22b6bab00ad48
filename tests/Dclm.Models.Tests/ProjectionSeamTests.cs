using Dclm.Models.Projections;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using static Dclm.Models.Tests.LogitDifference;

namespace Dclm.Models.Tests;

/// <summary>
/// Every matrix product of a forward step runs through the model's projections, and an adapter attached there acts on
/// the rows of its own sequences only, as merging its update into the weights would.
/// </summary>
public sealed unsafe class ProjectionSeamTests : IDisposable
{
    private static readonly ModelConfig Llama = ModelConfig.OpenLm(dim: 64, layers: 2, heads: 4, vocabularySize: 97, contextLength: 64)
        with { KeyValueHeads = 2, Architecture = Architecture.Llama, Norm = NormKind.RmsNorm, QueryKeyNorm = QueryKeyNorm.None };

    private readonly NativeMatrices _matrices = new();

    public static TheoryData<string> Architectures() => ["OpenLm", "Llama"];

    private static ModelConfig ConfigOf(string name) => name == "Llama" ? Llama : Llama with
    {
        Architecture = Architecture.OpenLm, KeyValueHeads = 4, Norm = NormKind.LayerNorm, QueryKeyNorm = QueryKeyNorm.FullWidth,
    };

    /// <summary>Two sequences in one step: a 5-token prefill in slot 0 and a 4-token prefill in slot 1, every row's logits.</summary>
    private static readonly ForwardBatch TwoSequences = new()
    {
        Tokens = [5, 17, 33, 2, 90, 60, 3, 3, 88],
        Positions = [0, 1, 2, 3, 4, 0, 1, 2, 3],
        Slots = [0, 0, 0, 0, 0, 1, 1, 1, 1],
        LogitRows = [0, 1, 2, 3, 4, 5, 6, 7, 8],
    };

    [Theory]
    [MemberData(nameof(Architectures))]
    public void EveryProductRunsThroughTheProjections(string architecture)
    {
        // Model a with model b's projections put in its place must be the model with a's embedding and norms and b's
        // matrices: a product that bypassed the projections would still use a's matrices.
        var config = ConfigOf(architecture);
        using var pool = new ComputePool(2);
        using var a = SyntheticModel.Create(config, seed: 1, pool: pool);
        using var b = SyntheticModel.Create(config, seed: 2, pool: pool);
        var mixed = new DecoderModel(config, new ModelWeights(a.Weights.TokenEmbedding,
            a.Weights.Layers.Zip(b.Weights.Layers, (own, other) => new LayerWeights
            {
                AttentionNorm = own.AttentionNorm, QueryNorm = own.QueryNorm, KeyNorm = own.KeyNorm, FeedForwardNorm = own.FeedForwardNorm,
                Query = other.Query, Key = other.Key, Value = other.Value, Output = other.Output, Gate = other.Gate, Up = other.Up, Down = other.Down,
            }).ToArray(), a.Weights.FinalNorm, b.Weights.Output), pool);
        for (int l = 0; l < config.Layers; l++)
        {
            a.Projections[l].QueryKeyValue = b.Projections[l].QueryKeyValue;
            a.Projections[l].Output = b.Projections[l].Output;
            a.Projections[l].GateUp = b.Projections[l].GateUp;
            a.Projections[l].Down = b.Projections[l].Down;
        }
        a.Head = b.Head;
        foreach (var mode in new[] { LayerParallelism.Rows, LayerParallelism.Sequences })
        {
            a.LayerParallelism = mixed.LayerParallelism = mode;
            Assert.Equal(Logits(mixed, TwoSequences), Logits(a, TwoSequences));
        }
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void AnAdapterChangesOnlyItsOwnSequenceAsMergedWeightsWould(string architecture)
    {
        // A LoRA update on q and v (parts of the Q|K|V product) and on W_down of every layer, for slot 1's sequence only.
        var config = ConfigOf(architecture);
        using var model = SyntheticModel.Create(config, seed: 3);
        var plain = Logits(model, TwoSequences);
        var random = new Random(4);
        var adapters = new List<(int Layer, string Matrix, LowRank Update)>();
        for (int l = 0; l < config.Layers; l++)
        {
            var p = model.Projections[l];
            var q = LowRank.Random(config.Dim, config.QueryDim, rank: 3, scale: 0.5f, random);
            var v = LowRank.Random(config.Dim, config.KeyValueDim, rank: 2, scale: 2f, random);
            var down = LowRank.Random(config.HiddenDim, config.Dim, rank: 4, scale: 0.25f, random);
            p.QueryKeyValue = new TestAdapter(p.QueryKeyValue, slot: 1, (0, q), (2, v));
            p.Down = new TestAdapter(p.Down, slot: 1, (0, down));
            adapters.AddRange([(l, "q", q), (l, "v", v), (l, "down", down)]);
        }
        var adapted = Logits(model, TwoSequences);
        int vocabulary = config.VocabularySize, first = 5 * vocabulary;

        // Slot 0's rows are untouched, bit for bit; slot 1's rows change.
        Assert.Equal(plain[..first], adapted[..first]);
        Assert.True(MaxRelativeDifference(plain[first..], adapted[first..]) > 1e-3, "the adapter must change its own sequence");

        // The oracle: slot 1 alone on weights W + s·B·A.
        using var merged = Merged(config, model.Weights, adapters);
        var alone = Logits(merged, ForwardBatch.Sequence(TwoSequences.Tokens[5..], 0, allLogits: true));
        Assert.True(MaxRelativeDifference(alone, adapted[first..]) < 1e-5, $"adapted vs merged: {MaxRelativeDifference(alone, adapted[first..]):E2}");
    }

    [Fact]
    public void AProjectionOfAnotherShapeIsRefused()
    {
        using var model = SyntheticModel.Create(Llama);
        var layer = model.Projections[0];
        Assert.Throws<ArgumentException>(() => layer.QueryKeyValue = layer.GateUp);
        Assert.Throws<ArgumentException>(() => layer.Down = layer.Output);
        Assert.Throws<ArgumentException>(() => model.Head = layer.Down);
        // Q|K|V of separately stored matrices is a stack of three, with the parts of the fused product.
        Assert.IsType<StackedProjection>(layer.QueryKeyValue);
        Assert.Equal([Llama.QueryDim, Llama.KeyValueDim, Llama.KeyValueDim], layer.QueryKeyValue.Parts.ToArray());
    }

    [Fact]
    public void StackedProjectionsEqualTheOneProductOfTheirJoinedWeights()
    {
        var random = new Random(6);
        const int inputs = 48, rows = 11;
        int[] widths = [16, 8, 8];
        var joined = Matrix(Enumerable.Range(0, widths.Sum() * inputs).Select(_ => random.NextSingle() - 0.5f).ToArray(), widths.Sum(), inputs);
        var fused = Projection.FromWeights(joined.RowSlice(0, 16), joined.RowSlice(16, 8), joined.RowSlice(24, 8));
        Assert.IsType<MatrixProjection>(fused);
        var stacked = new StackedProjection(new MatrixProjection(Copy(joined.RowSlice(0, 16))), new MatrixProjection(Copy(joined.RowSlice(16, 8))),
            new MatrixProjection(Copy(joined.RowSlice(24, 8))));
        Assert.True(stacked.HasShapeOf(fused));
        var batch = new ForwardBatch { Tokens = new int[rows], Positions = new int[rows], Slots = new int[rows], LogitRows = [] };
        var input = Enumerable.Range(0, rows * inputs).Select(_ => random.NextSingle()).ToArray();
        var expected = new float[rows * 32];
        var actual = new float[rows * 32];
        fused.Apply(ProjectionRows.Tokens(batch, ComputePool.Shared), input, expected);
        stacked.Apply(ProjectionRows.Tokens(batch, ComputePool.Shared), input, actual);
        Assert.Equal(expected, actual);
    }

    /// <summary>W + s·B·A of every adapted matrix of <paramref name="weights"/>, the rest shared.</summary>
    private DecoderModel Merged(ModelConfig config, ModelWeights weights, List<(int Layer, string Matrix, LowRank Update)> adapters)
    {
        WeightMatrix Apply(int layer, string name, WeightMatrix m)
        {
            var update = adapters.Where(a => a.Layer == layer && a.Matrix == name).Select(a => a.Update).SingleOrDefault();
            if (update is null) return m;
            var values = new float[m.Rows * m.Columns];
            for (int r = 0; r < m.Rows; r++) Dequantize.Row(m, r, values.AsSpan(r * m.Columns, m.Columns));
            update.AddTo(values);
            return Matrix(values, m.Rows, m.Columns);
        }
        var layers = weights.Layers.Select((l, i) => new LayerWeights
        {
            AttentionNorm = l.AttentionNorm, QueryNorm = l.QueryNorm, KeyNorm = l.KeyNorm, FeedForwardNorm = l.FeedForwardNorm,
            Query = Apply(i, "q", l.Query), Key = l.Key, Value = Apply(i, "v", l.Value), Output = l.Output,
            Gate = l.Gate, Up = l.Up, Down = Apply(i, "down", l.Down),
        }).ToArray();
        return new DecoderModel(config, new ModelWeights(weights.TokenEmbedding, layers, weights.FinalNorm, weights.Output));
    }

    private static float[] Logits(DecoderModel model, ForwardBatch batch)
    {
        var logits = new float[batch.LogitRows.Length * model.Config.VocabularySize];
        model.Forward(batch, model.CreateCache(slots: 2), logits);
        return logits;
    }

    private WeightMatrix Matrix(float[] values, int rows, int columns) => _matrices.F32(values, rows, columns);

    private WeightMatrix Copy(WeightMatrix m) => Matrix(new ReadOnlySpan<float>(m.Data, m.Rows * m.Columns).ToArray(), m.Rows, m.Columns);

    public void Dispose() => _matrices.Dispose();

    /// <summary>A LoRA update s·B·A: A (rank, inputs), B (outputs, rank).</summary>
    private sealed record LowRank(float[] A, float[] B, int Inputs, int Outputs, int Rank, float Scale)
    {
        public static LowRank Random(int inputs, int outputs, int rank, float scale, Random random) =>
            new(Values(rank * inputs, random), Values(outputs * rank, random), inputs, outputs, rank, scale);

        private static float[] Values(int count, Random random) => Enumerable.Range(0, count).Select(_ => (random.NextSingle() - 0.5f) * 0.2f).ToArray();

        /// <summary>y += s·B·(A·x), in double.</summary>
        public void Add(ReadOnlySpan<float> x, Span<float> y)
        {
            var h = new double[Rank];
            for (int k = 0; k < Rank; k++)
                for (int i = 0; i < Inputs; i++) h[k] += (double)A[k * Inputs + i] * x[i];
            for (int o = 0; o < Outputs; o++)
            {
                double sum = 0;
                for (int k = 0; k < Rank; k++) sum += B[o * Rank + k] * h[k];
                y[o] += (float)(Scale * sum);
            }
        }

        /// <summary>W += s·B·A, W (outputs, inputs).</summary>
        public void AddTo(float[] w)
        {
            for (int o = 0; o < Outputs; o++)
                for (int i = 0; i < Inputs; i++)
                {
                    double sum = 0;
                    for (int k = 0; k < Rank; k++) sum += (double)B[o * Rank + k] * A[k * Inputs + i];
                    w[o * Inputs + i] += (float)(Scale * sum);
                }
        }
    }

    /// <summary>An S-LoRA-style adapter: after the inner product, rows of <paramref name="slot"/>'s sequence get each part's update.</summary>
    private sealed class TestAdapter(Projection inner, int slot, params (int Part, LowRank Update)[] updates) : Projection(inner.Inputs, inner.Parts)
    {
        public override void Apply(ProjectionRows rows, ReadOnlySpan<float> input, Span<float> destination)
        {
            inner.Apply(rows, input, destination);
            for (int r = 0; r < rows.Count; r++)
            {
                if (rows.Slot(r) != slot) continue;
                foreach (var (part, update) in updates)
                    update.Add(input.Slice(r * Inputs, Inputs), destination.Slice(r * Outputs + PartOffset(part), Parts[part]));
            }
        }
    }
}
