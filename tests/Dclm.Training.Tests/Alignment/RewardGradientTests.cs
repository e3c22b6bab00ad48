using Dclm.Models;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Training.Alignment;
using Dclm.Training.FineTuning;
using Dclm.Training.FineTuning.Data;

namespace Dclm.Training.Tests.Alignment;

/// <summary>
/// Gradients that enter the model on its final hidden states (a reward model's head, later a value head), and the
/// Bradley–Terry reward loss, against central differences of the float64 reference decoder, which is written from the
/// math and shares nothing with the training graph beyond reading the stored weights.
/// </summary>
public class RewardGradientTests
{
    private static readonly ComputePool Pool = new(2);

    public static TheoryData<string, GgmlType> Bases => new()
    {
        { "openlm", GgmlType.F32 }, { "openlm", GgmlType.Q8_0 }, { "llama", GgmlType.F32 }, { "qwen3", GgmlType.Q4_0 },
    };

    private static ModelConfig Config(string name) => name switch
    {
        "llama" => TinyBases.Llama(),
        "qwen3" => TinyBases.Qwen3(),
        _ => TinyBases.OpenLm(),
    };

    /// <summary>
    /// L = Σ g ⊙ h for a fixed random g on every final hidden state h: the hidden states against the float64 decoder,
    /// and the adapter gradients of <see cref="TrainingModel.BackwardFromHidden"/> against central differences of L.
    /// </summary>
    [Theory]
    [MemberData(nameof(Bases))]
    public void HiddenStateGradientsMatchFiniteDifferences(string architecture, GgmlType type)
    {
        var config = Config(architecture);
        using var weights = TinyBases.Create(config, type, 5);
        var adapters = TinyAdapters.Random(config, 6);
        var model = FrozenBaseModel.Build(config, weights, adapters, Pool);
        int[] inputs = [1, 7, 3, 12, 5, 9];
        int n = inputs.Length, d = config.Dim;
        var g = GradientCheck.Random(n * d, 7);

        var oracle = new ReferenceDecoder(config, weights, adapters);
        var values = oracle.Values();
        double Objective(double[] p) => GradientCheck.Dot(oracle.Hidden(p, inputs).SelectMany(row => row).ToArray(), g);

        model.ZeroGradients();
        var hidden = model.HiddenStates(inputs, 1, n).ToArray();
        var expected = oracle.Hidden(values, inputs).SelectMany(row => row).ToArray();
        for (int i = 0; i < hidden.Length; i++)
            Assert.True(Math.Abs(hidden[i] - expected[i]) <= 2e-4 * Math.Max(1, Math.Abs(expected[i])), $"h[{i}] {hidden[i]} against the decoder's {expected[i]}");
        model.BackwardFromHidden(GradientCheck.ToFloat(g), inputs);
        var gradients = adapters.Parameters.SelectMany(p => p.Gradient!).ToArray();
        foreach (var tensor in adapters.Parameters)
            GradientCheck.Assert(values, Objective, gradients, $"{architecture} {type} {tensor.Name}", tolerance: 2e-3,
                indices: Enumerable.Range(oracle.Offsets[tensor], tensor.Length).Where(i => i % 7 == 0));
    }

    [Fact]
    public void BackwardFromHiddenNeedsItsOwnForwardPass()
    {
        var config = TinyBases.OpenLm();
        using var weights = TinyBases.Create(config, GgmlType.F32, 5);
        var model = FrozenBaseModel.Build(config, weights, TinyAdapters.Random(config, 6), Pool);
        int[] inputs = [1, 2, 3];
        Assert.Throws<InvalidOperationException>(() => model.BackwardFromHidden(new float[3 * config.Dim], inputs));
        model.HiddenStates(inputs, 1, 3);
        Assert.Throws<ArgumentException>(() => model.BackwardFromHidden(new float[2 * config.Dim], inputs));
        // A pass of another kind in between replaces the activations the backward pass would read.
        model.HiddenStates(inputs, 1, 3);
        model.Evaluate(inputs, [2, 3, 4], 1, 3, 0f);
        Assert.Throws<InvalidOperationException>(() => model.BackwardFromHidden(new float[3 * config.Dim], inputs));
    }

    /// <summary>−log σ(m) written as the definition, in double.</summary>
    private static double NegativeLogSigmoid(double m) => -Math.Log(1 / (1 + Math.Exp(-m)));

    [Fact]
    public void TheBradleyTerryLossMatchesItsDefinition()
    {
        var random = new Random(8);
        for (int trial = 0; trial < 50; trial++)
        {
            double rc = 20 * (random.NextDouble() - 0.5), rr = 20 * (random.NextDouble() - 0.5);
            var terms = RewardObjective.Terms(rc, rr);
            Assert.Equal(NegativeLogSigmoid(rc - rr), terms.Loss, 10);
            const double step = 1e-6;
            double dc = (NegativeLogSigmoid(rc + step - rr) - NegativeLogSigmoid(rc - step - rr)) / (2 * step);
            double dr = (NegativeLogSigmoid(rc - rr - step) - NegativeLogSigmoid(rc - rr + step)) / (2 * step);
            Assert.Equal(dc, terms.ChosenGradient, 6);
            Assert.Equal(dr, terms.RejectedGradient, 6);
            Assert.Equal(rc - rr, terms.Margin, 12);
        }
        Assert.Equal(Math.Log(2), RewardObjective.Terms(1.5, 1.5).Loss, 12);
        var wrong = RewardObjective.Terms(-1e6, 0);
        Assert.Equal(1e6, wrong.Loss, 6);
        Assert.Equal(-1, wrong.ChosenGradient, 12);
        Assert.Equal(0, RewardObjective.Terms(1e6, 0).Loss, 12);
    }

    /// <summary>
    /// A pair of unequal lengths (the shorter side padded in the batch of two) through a tiny model: the Bradley–Terry
    /// loss with r = w · h(last token) and its gradients on the adapters and on the head, against central differences
    /// of the same loss built from the float64 decoder's hidden states.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.Q4_0)]
    public void RewardLossGradientsMatchFiniteDifferences(GgmlType type)
    {
        var config = TinyBases.OpenLm();
        using var weights = TinyBases.Create(config, type, 3);
        var adapters = TinyAdapters.Random(config, 4);
        var model = FrozenBaseModel.Build(config, weights, adapters, Pool);
        var head = RewardHead.Create(config.Dim, 9);
        var pair = new PreferencePair(
            new FineTuningExample([1, 5, 9, 2, 7, 3, 12], [false, false, false, true, true, true, true], 1, ExampleFormat.PromptCompletion),
            new FineTuningExample([1, 5, 9, 4, 8], [false, false, false, true, true], 1, ExampleFormat.PromptCompletion), 1);
        var objective = new RewardObjective(model, head, 8);

        var oracle = new ReferenceDecoder(config, weights, adapters);
        int adapterCount = oracle.Values().Length;
        // One flat vector: the adapters, then the head's w.
        var values = oracle.Values().Concat(head.Weight.Values.Select(v => (double)v)).ToArray();
        double Reward(double[] p, int[] tokens)
        {
            var last = oracle.Hidden(p, tokens)[^1];
            double r = 0;
            for (int i = 0; i < last.Length; i++) r += p[adapterCount + i] * last[i];
            return r;
        }
        double Loss(double[] p) => NegativeLogSigmoid(Reward(p, pair.Chosen.Tokens) - Reward(p, pair.Rejected.Tokens));

        model.ZeroGradients();
        Array.Clear(head.Weight.Gradient!);
        var evaluated = objective.Evaluate(pair);
        var terms = objective.Accumulate(pair, 1.0);
        Assert.Equal(evaluated, terms);
        Assert.Equal(Reward(values, pair.Chosen.Tokens), terms.ChosenReward, 3);
        Assert.Equal(Reward(values, pair.Rejected.Tokens), terms.RejectedReward, 3);
        Assert.Equal(Loss(values), terms.Loss, 3);
        var gradients = adapters.Parameters.SelectMany(p => p.Gradient!).Concat(head.Weight.Gradient!).ToArray();
        foreach (var tensor in adapters.Parameters)
            GradientCheck.Assert(values, Loss, gradients, $"{type} {tensor.Name}", tolerance: 2e-3,
                indices: Enumerable.Range(oracle.Offsets[tensor], tensor.Length).Where(i => i % 5 == 0));
        GradientCheck.Assert(values, Loss, gradients, $"{type} {RewardHead.TensorName}", tolerance: 2e-3,
            indices: Enumerable.Range(adapterCount, config.Dim));
    }
}
