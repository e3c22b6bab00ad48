using Dclm.Checkpoints;
using Dclm.Formats;
using Dclm.Inference;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.TestSupport;

namespace Dclm.Models.Tests;

/// <summary>
/// Tensor parallelism (<see cref="DecoderModel.Sharded"/>) over ranks that are threads of this process
/// (<see cref="ThreadGroup"/>; the CLI tests run the same over mpirun): each rank loads only its shard from the file, and
/// every rank's logits equal the one-process model's to 1e-5 of the largest logit for f32, f16 and bf16 weights, where
/// the split only reorders the additions of W_o·a and W_down·h (and of open_lm's q/k norm statistics): measured 7e-8 to
/// 3e-7. For q8_0 and q4_0 the bound is 5e-3: the products re-quantize their inputs to 8-bit levels per block of 32
/// (as llama.cpp does), so a last-bit difference in the residual stream can move one value across a rounding boundary, a
/// step of max|block|/127, which later layers carry on (measured: q8_0 0, q4_0 1.2e-3; a single split product agrees to
/// 1.3e-7). Those shards must also be as close to the f32 model as the whole quantized model is.
/// The open_lm fixture is also held to the independent implementation's logits and greedy continuation.
/// </summary>
public sealed class TensorParallelTests : IDisposable
{
    private static readonly LlamaShape GqaShape = new(Dim: 256, Layers: 2, Heads: 8, KeyValueHeads: 4, HiddenDim: 704, VocabularySize: 512);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dclm-tp-" + Guid.NewGuid().ToString("N"));

    public TensorParallelTests() => Directory.CreateDirectory(_directory);
    public void Dispose() => Directory.Delete(_directory, true);

    [Theory]
    [InlineData("dclm-tiny", 2)]
    [InlineData("dclm-tiny", 4)]
    [InlineData("dclm-tiny-bf16", 2)]
    public void OpenLmShardsGiveTheOneProcessLogitsAndTheReferenceContinuation(string name, int ranks)
    {
        var fixture = ReferenceFixture.Load(name);
        float[] expected;
        using (var whole = ModelLoader.Load(fixture.Directory)) expected = ReferenceFixture.AllLogits(whole.Model, fixture.Prompt);
        var results = ThreadGroup.Run(ranks, group =>
        {
            using var pool = new ComputePool(1);
            using var loaded = ModelLoader.Load(fixture.Directory, pool, tensorParallel: group);
            Assert.Equal(4 / ranks, loaded.Config.Heads);
            var logits = ReferenceFixture.AllLogits(loaded.Model, fixture.Prompt);
            var generated = new TokenGenerator(loaded.Model, endOfSequenceId: null)
                .Generate(fixture.Prompt, SamplingOptions.Greedy with { MaxTokens = fixture.GreedyContinuation.Length }).ToArray();
            return (logits, generated);
        });
        foreach (var (logits, generated) in results)
        {
            AssertClose(expected, logits, 1e-5);
            Assert.True(fixture.RelativeError(logits) <= 1e-4, $"relative error against open_lm {fixture.RelativeError(logits):E2}");
            Assert.Equal(fixture.GreedyContinuation, generated);
            Assert.Equal(results[0].logits, logits); // every rank holds the same bits
        }
    }

    [Theory]
    [InlineData(GgmlType.F32, 2, 1e-5)]
    [InlineData(GgmlType.F32, 4, 1e-5)]
    [InlineData(GgmlType.F16, 2, 1e-5)]
    [InlineData(GgmlType.BF16, 2, 1e-5)]
    [InlineData(GgmlType.Q8_0, 2, 5e-3)]
    [InlineData(GgmlType.Q4_0, 2, 5e-3)]
    public void LlamaWithGroupedQueryAttentionShardsGiveTheOneProcessLogits(GgmlType type, int ranks, double tolerance)
    {
        string path = Path.Combine(_directory, $"llama-{type}.gguf"), exact = Path.Combine(_directory, "llama-f32.gguf");
        var model = RandomLlama.Create(GqaShape, 7, outputShare: 1);
        LlamaFiles.WriteGguf(model, path, type, addTokenizer: _ => { });
        LlamaFiles.WriteGguf(model, exact, GgmlType.F32, addTokenizer: _ => { });
        int[] prompt = [1, 17, 300, 42, 511, 8, 99, 256, 3, 64];
        float[] expected, unquantized;
        using (var whole = ModelLoader.Load(path)) expected = ReferenceFixture.AllLogits(whole.Model, prompt);
        using (var whole = ModelLoader.Load(exact)) unquantized = ReferenceFixture.AllLogits(whole.Model, prompt);
        var results = ThreadGroup.Run(ranks, group =>
        {
            using var pool = new ComputePool(1);
            using var loaded = ModelLoader.Load(path, pool, tensorParallel: group);
            Assert.Equal((8 / ranks, 4 / ranks, 704 / ranks), (loaded.Config.Heads, loaded.Config.KeyValueHeads, loaded.Config.HiddenDim));
            return ReferenceFixture.AllLogits(loaded.Model, prompt);
        });
        foreach (var logits in results)
        {
            AssertClose(expected, logits, tolerance);
            Assert.Equal(results[0], logits);
            // Quantized: the shards are as close to the f32 model as the whole quantized model is (within 10%).
            Assert.True(Error(unquantized, logits) <= 1.1 * Error(unquantized, expected) + 1e-6,
                $"{type} shards are {Error(unquantized, logits):E2} from the f32 model, the whole {type} model {Error(unquantized, expected):E2}");
        }
    }

    [Fact]
    public void DecodingStepByStepAndBatchedSequencesAgreeWithTheWholeModel()
    {
        string path = Path.Combine(_directory, "llama.gguf");
        LlamaFiles.WriteGguf(RandomLlama.Create(GqaShape, 11, outputShare: 1), path, GgmlType.F32, addTokenizer: _ => { });
        int[] a = [5, 6, 7, 8, 9], b = [400, 300, 200];
        // Two sequences prefilled in one batch, then one token each, decoded together.
        float[] Run(DecoderModel model)
        {
            var cache = model.CreateCache(slots: 2);
            int v = model.Config.VocabularySize;
            var first = new ForwardBatch { Tokens = [.. a, .. b], Positions = [0, 1, 2, 3, 4, 0, 1, 2], Slots = [0, 0, 0, 0, 0, 1, 1, 1], LogitRows = [4, 7] };
            var logits = new float[4 * v];
            model.Forward(first, cache, logits.AsSpan(0, 2 * v));
            model.Forward(new ForwardBatch { Tokens = [10, 11], Positions = [5, 3], Slots = [0, 1], LogitRows = [0, 1] }, cache, logits.AsSpan(2 * v, 2 * v));
            return logits;
        }
        float[] expected;
        using (var whole = ModelLoader.Load(path)) expected = Run(whole.Model);
        var results = ThreadGroup.Run(2, group =>
        {
            using var pool = new ComputePool(2);
            using var loaded = ModelLoader.Load(path, pool, tensorParallel: group);
            return Run(loaded.Model);
        });
        foreach (var logits in results) AssertClose(expected, logits, 1e-5);
    }

    /// <summary>open_lm with RMSNorm (its q/k statistics are Σx² across ranks) and ALiBi (each rank keeps its heads' slopes).</summary>
    [Fact]
    public void RmsNormAndAlibiShardsGiveTheOneProcessLogits()
    {
        var config = ModelConfig.OpenLm(dim: 64, layers: 2, heads: 4, vocabularySize: 300) with { Norm = NormKind.RmsNorm, Positions = PositionEncoding.Alibi };
        int[] prompt = [3, 14, 15, 92, 65, 35, 89, 79];
        float[] expected;
        using (var whole = SyntheticModel.Create(config, seed: 21)) expected = ReferenceFixture.AllLogits(whole, prompt);
        var results = ThreadGroup.Run(2, group =>
        {
            // Each rank builds the whole synthetic model and keeps its shard (which then owns the weights).
            using var pool = new ComputePool(1);
            var whole = SyntheticModel.Create(config, seed: 21);
            using var shard = DecoderModel.Sharded(config, whole.Weights, group, pool);
            return ReferenceFixture.AllLogits(shard, prompt);
        });
        foreach (var logits in results) AssertClose(expected, logits, 1e-5);
    }

    [Fact]
    public void ASplitThatDoesNotDivideTheHeadsOrCutsAQuantizationBlockIsRefusedByName()
    {
        string path = Path.Combine(_directory, "llama-q8.gguf");
        LlamaFiles.WriteGguf(RandomLlama.Create(GqaShape, 3), path, GgmlType.Q8_0, addTokenizer: _ => { });
        var heads = Assert.Throws<AggregateException>(() => ThreadGroup.Run(3, group => ModelLoader.Load(path, tensorParallel: group)));
        var error = Assert.IsType<ModelFileException>(heads.InnerException);
        Assert.Contains("needs the attention heads (8) to divide by 3", error.Message);
        Assert.Contains(path, error.Message);
        // 704 / 4 = 176 feed-forward units per rank: not a whole number of q8_0's 32-value blocks of W_down's row.
        var blocks = Assert.Throws<AggregateException>(() => ThreadGroup.Run(4, group => ModelLoader.Load(path, tensorParallel: group)));
        Assert.Contains("splits layer 0 down (q8_0, 704 columns) into 176 columns per rank, not a whole number of 32-value blocks", blocks.InnerException!.Message);
    }

    /// <summary>max |actual − expected| ≤ tolerance · max |expected|, the fixtures' relative measure.</summary>
    private static void AssertClose(float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(Error(expected, actual) <= tolerance, $"logits differ from one process's by {Error(expected, actual):E2} of the largest");
    }

    /// <summary>max |actual − expected| / max |expected|.</summary>
    private static double Error(float[] expected, float[] actual)
    {
        double worst = 0, largest = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
            largest = Math.Max(largest, Math.Abs(expected[i]));
        }
        return worst / largest;
    }
}
