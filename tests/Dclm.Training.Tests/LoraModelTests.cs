using Dclm.Models;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Training.FineTuning;
using static Dclm.Training.Tests.GradientCheck;

namespace Dclm.Training.Tests;

/// <summary>
/// A frozen base with LoRA adapters on all seven projections, through the whole model: the adapters'
/// gradients against finite differences of a float64 reference decoder, the loss mask, and the training
/// forward against the inference engine.
/// </summary>
public class LoraModelTests
{
    private static readonly ComputePool Pool = new(2);

    private static ModelConfig Config(string architecture) => architecture switch
    {
        "openlm" => TinyBases.OpenLm(),
        "llama" => TinyBases.Llama(),
        "qwen2" => TinyBases.Qwen2(),
        _ => TinyBases.Qwen3(),
    };

    /// <summary>Adapters on every target with random A and B (B away from zero so every path carries gradient).</summary>
    private static LoraAdapters Adapters(ModelConfig config, int seed)
    {
        var adapters = LoraAdapters.Create(config, new LoraSettings { Rank = 2, Alpha = 3, Dropout = 0 }, (ulong)seed);
        var random = new Random(seed);
        foreach (var adapter in adapters.All)
            for (int i = 0; i < adapter.B.Length; i++) adapter.B.Values[i] = (float)((random.NextDouble() * 2 - 1) * 0.3);
        return adapters;
    }

    [Theory]
    [InlineData("openlm", GgmlType.F32, false, false)]
    [InlineData("openlm", GgmlType.Q4_K, true, true)]
    [InlineData("llama", GgmlType.Q8_0, true, true)]
    [InlineData("llama", GgmlType.BF16, false, false)]
    [InlineData("qwen2", GgmlType.Q4_0, false, false)]
    [InlineData("qwen3", GgmlType.Q4_0, false, true)]
    public void AdapterGradientsThroughTheWholeModelMatchFiniteDifferences(string architecture, GgmlType type, bool checkpointing, bool packed)
    {
        var config = architecture == "openlm" && type == GgmlType.Q4_K ? TinyBases.OpenLm(dim: 256, hidden: 256, vocabulary: 11) : Config(architecture);
        using var weights = TinyBases.Create(config, type, 3);
        var adapters = Adapters(config, 4);
        var model = FrozenBaseModel.Build(config, weights, adapters, Pool);
        model.GradientCheckpointing = checkpointing;
        const int batch = 2, sequence = 6;
        var random = new Random(5);
        int[] inputs = Enumerable.Range(0, batch * sequence).Select(_ => random.Next(config.VocabularySize)).ToArray();
        int[] targets = Enumerable.Range(0, batch * sequence).Select(_ => random.Next(config.VocabularySize)).ToArray();
        bool[] mask = Enumerable.Range(0, batch * sequence).Select(i => i % 5 != 1).ToArray();
        // Packed: the first sequence holds documents [0, 2) and [2, 6), the second one document.
        int[]? starts = packed ? [0, 0, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0] : null;
        model.ZeroGradients();
        var loss = model.ForwardBackward(inputs, targets, batch, sequence, 0f, 1f, starts, mask);
        Xunit.Assert.Equal(Enumerable.Range(0, batch * sequence).Count(i => mask[i]), loss.Tokens);

        var reference = new ReferenceDecoder(config, weights, adapters);
        var values = reference.Values();
        double Loss(double[] p) => reference.Loss(p, inputs, targets, mask, batch, sequence, starts);
        Xunit.Assert.Equal(Loss(values), loss.CrossEntropy, 4);
        var gradients = adapters.Parameters.SelectMany(p => p.Gradient!).ToArray();
        // Every third value of each tensor (every 151st where K-quants need 256-wide rows) keeps the check quick;
        // float32 rounding over 256-wide sums puts small entries near 1e-4 of the gradient's scale, so that case gets 3e-4.
        bool wide = config.Dim >= 256;
        int stride = wide ? 151 : 3;
        foreach (var tensor in adapters.Parameters)
            Assert(values, Loss, gradients, $"{architecture} {type} {tensor.Name}", tolerance: wide ? 3e-4 : 1e-4,
                indices: Enumerable.Range(reference.Offsets[tensor], tensor.Length).Where(i => i % stride == 0));
    }

    [Fact]
    public void TargetsOutsideTheLossMaskDoNotChangeTheGradient()
    {
        var config = Config("llama");
        using var weights = TinyBases.Create(config, GgmlType.Q8_0, 6);
        var adapters = Adapters(config, 7);
        var model = FrozenBaseModel.Build(config, weights, adapters, Pool);
        int[] inputs = [1, 5, 9, 2, 7, 3, 8, 4];
        int[] targets = [5, 9, 2, 7, 3, 8, 4, 6];
        // The first four positions are a user turn: seen, not learned.
        bool[] mask = [false, false, false, false, true, true, true, true];
        float[] Gradient(int[] t)
        {
            model.ZeroGradients();
            model.ForwardBackward(inputs, t, 1, 8, 0f, 1f, default, mask);
            return adapters.Parameters.SelectMany(p => p.Gradient!).ToArray();
        }
        var expected = Gradient(targets);
        var userChanged = (int[])targets.Clone();
        userChanged[1] = 0; userChanged[3] = 11;
        Xunit.Assert.Equal(expected, Gradient(userChanged));
        var assistantChanged = (int[])targets.Clone();
        assistantChanged[5] = 0;
        Xunit.Assert.NotEqual(expected, Gradient(assistantChanged));
    }

    /// <summary>Recomputing each block from its saved input gives the gradients of keeping every activation, bit for bit, dropout included.</summary>
    [Fact]
    public void CheckpointingGivesTheSameGradientsBitForBit()
    {
        var config = Config("qwen");
        using var weights = TinyBases.Create(config, GgmlType.Q4_0, 10);
        var adapters = LoraAdapters.Create(config, new LoraSettings { Rank = 3, Dropout = 0.2 }, 11);
        foreach (var adapter in adapters.All) adapter.B.Values.AsSpan().Fill(0.05f);
        var model = FrozenBaseModel.Build(config, weights, adapters, Pool);
        model.DropoutKey = 12345;
        int[] inputs = [1, 5, 9, 2, 7, 3, 8, 4, 0, 2];
        int[] targets = [5, 9, 2, 7, 3, 8, 4, 6, 2, 1];
        float[] Gradient(bool checkpointing)
        {
            model.GradientCheckpointing = checkpointing;
            model.ZeroGradients();
            model.ForwardBackward(inputs, targets, 2, 5, 1e-4f);
            return adapters.Parameters.SelectMany(p => p.Gradient!).ToArray();
        }
        var kept = Gradient(false);
        Xunit.Assert.Contains(kept, g => g != 0);
        Xunit.Assert.Equal(kept, Gradient(true));
    }

    /// <summary>With B = 0 (as training starts) the training forward over an f32 base is the inference engine's forward.</summary>
    [Theory]
    [InlineData("openlm")]
    [InlineData("llama")]
    [InlineData("qwen")]
    public void FreshAdaptersGiveTheInferenceEnginesLogits(string architecture)
    {
        var config = Config(architecture);
        using var weights = TinyBases.Create(config, GgmlType.F32, 8);
        var adapters = LoraAdapters.Create(config, new LoraSettings { Rank = 4 }, 9);
        var model = FrozenBaseModel.Build(config, weights, adapters, Pool);
        int[] tokens = [3, 1, 4, 1, 5, 9, 2, 6];
        int v = config.VocabularySize;
        var expected = new float[tokens.Length * v];
        model.Logits(tokens, expected);
        var engine = new DecoderModel(config, weights, Pool);
        var actual = new float[tokens.Length * v];
        engine.Forward(ForwardBatch.Sequence(tokens, 0, allLogits: true), engine.CreateCache(), actual);
        for (int i = 0; i < actual.Length; i++)
            Xunit.Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-4 * Math.Max(1, Math.Abs(actual[i])), $"{architecture} logit {i}: engine {actual[i]}, training {expected[i]}");
    }
}
