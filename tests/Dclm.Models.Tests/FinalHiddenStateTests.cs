using Dclm.Tensors.Compute;

namespace Dclm.Models.Tests;

/// <summary>
/// <see cref="DecoderModel.ForwardHidden"/> stops a step before the head: the states it returns are the ones the head
/// multiplies (W_out · hidden[r] equals row r's logits from <see cref="DecoderModel.Forward"/>), and it fills the KV
/// cache as a full step does.
/// </summary>
public sealed class FinalHiddenStateTests
{
    private static readonly ModelConfig Llama = ModelConfig.OpenLm(dim: 64, layers: 2, heads: 4, vocabularySize: 97, contextLength: 64)
        with { KeyValueHeads = 2, Architecture = Architecture.Llama, Norm = NormKind.RmsNorm, QueryKeyNorm = QueryKeyNorm.None };

    private static ModelConfig ConfigOf(string name) => name == "Llama" ? Llama : Llama with
    {
        Architecture = Architecture.OpenLm, KeyValueHeads = 4, Norm = NormKind.LayerNorm, QueryKeyNorm = QueryKeyNorm.FullWidth,
    };

    public static TheoryData<string> Architectures() => ["OpenLm", "Llama"];

    // A 5-token prefill in slot 0 and a 4-token prefill in slot 1; rows: the last of each, and one inside the first.
    private static ForwardBatch Batch() => new()
    {
        Tokens = [5, 17, 33, 2, 90, 60, 3, 3, 88],
        Positions = [0, 1, 2, 3, 4, 0, 1, 2, 3],
        Slots = [0, 0, 0, 0, 0, 1, 1, 1, 1],
        LogitRows = [4, 8, 1],
    };

    [Theory]
    [MemberData(nameof(Architectures))]
    public void TheHeadTimesTheHiddenStatesGivesTheLogits(string architecture)
    {
        var config = ConfigOf(architecture);
        using var pool = new ComputePool(2);
        using var model = SyntheticModel.Create(config, seed: 5, pool: pool);
        int rows = Batch().LogitRows.Length, dim = config.Dim, vocabulary = config.VocabularySize;
        var hidden = new float[rows * dim];
        model.ForwardHidden(Batch(), model.CreateCache(slots: 2), hidden);
        var logits = new float[rows * vocabulary];
        model.Forward(Batch(), model.CreateCache(slots: 2), logits);

        var headRow = new float[dim];
        double largest = logits.Max(Math.Abs), worst = 0;
        for (int v = 0; v < vocabulary; v++)
        {
            Dequantize.Row(model.Weights.Output, v, headRow);
            for (int r = 0; r < rows; r++)
            {
                double product = 0;
                for (int i = 0; i < dim; i++) product += (double)headRow[i] * hidden[r * dim + i];
                worst = Math.Max(worst, Math.Abs(product - logits[r * vocabulary + v]));
            }
        }
        Assert.True(worst <= 1e-5 * largest, $"|W_out·hidden − logits| reaches {worst:E2} (logits up to {largest:E2})");
        Assert.NotEqual(hidden.AsSpan(0, dim).ToArray(), hidden.AsSpan(dim, dim).ToArray());
    }

    [Fact]
    public void AHiddenStepFillsTheCacheAsAFullStepDoes()
    {
        using var pool = new ComputePool(1);
        using var model = SyntheticModel.Create(Llama, seed: 6, pool: pool);
        var viaHidden = model.CreateCache(slots: 2);
        var viaLogits = model.CreateCache(slots: 2);
        model.ForwardHidden(Batch(), viaHidden, new float[3 * Llama.Dim]);
        model.Forward(Batch(), viaLogits, new float[3 * Llama.VocabularySize]);
        // The next token of sequence 0 attends to the cached keys and values of the first step.
        var next = ForwardBatch.Sequence([41], start: 5, slot: 0);
        var afterHidden = new float[Llama.VocabularySize];
        var afterLogits = new float[Llama.VocabularySize];
        model.Forward(next, viaHidden, afterHidden);
        model.Forward(next, viaLogits, afterLogits);
        Assert.Equal(afterLogits, afterHidden);
    }

    [Fact]
    public void AShortHiddenBufferIsRefusedByName()
    {
        using var model = SyntheticModel.Create(Llama, seed: 7);
        var error = Assert.Throws<ArgumentException>(() => model.ForwardHidden(Batch(), model.CreateCache(slots: 2), new float[3 * Llama.Dim - 1]));
        Assert.Contains("hidden", error.Message);
    }
}
