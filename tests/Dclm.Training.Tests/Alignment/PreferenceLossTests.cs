using Dclm.Models;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Training.Alignment;
using Dclm.Training.FineTuning;
using Dclm.Training.FineTuning.Data;

namespace Dclm.Training.Tests.Alignment;

/// <summary>
/// The DPO-family losses against their closed forms, written out here from the papers' definitions, and their gradient
/// through a tiny model against finite differences of the float64 reference decoder, whose reference model is the same
/// decoder with every adapter's B set to zero (the base alone).
/// </summary>
public class PreferenceLossTests
{
    private static readonly ComputePool Pool = new(2);

    /// <summary>−log σ(x) = log(1 + e^(−x)), written as the definition (no overflow guard needed at these values).</summary>
    private static double NegativeLogSigmoid(double x) => Math.Log(1 + Math.Exp(-x));

    /// <summary>The losses as Rafailov et al. (DPO), Mitchell (conservative DPO) and Azar et al. (IPO) define them.</summary>
    private static double ClosedForm(PreferenceLossKind kind, double beta, double smoothing, double pc, double pr, double rc, double rr)
    {
        double h = pc - rc - (pr - rr);
        return kind == PreferenceLossKind.Ipo
            ? Math.Pow(h - 1 / (2 * beta), 2)
            : (1 - smoothing) * NegativeLogSigmoid(beta * h) + smoothing * NegativeLogSigmoid(-beta * h);
    }

    [Theory]
    [InlineData(PreferenceLossKind.Sigmoid, 0.1, 0.0)]
    [InlineData(PreferenceLossKind.Sigmoid, 2.0, 0.0)]
    [InlineData(PreferenceLossKind.Sigmoid, 0.5, 0.2)]
    [InlineData(PreferenceLossKind.Ipo, 0.1, 0.0)]
    [InlineData(PreferenceLossKind.Ipo, 1.5, 0.0)]
    public void TheLossAndItsGradientMatchTheClosedForm(PreferenceLossKind kind, double beta, double smoothing)
    {
        var random = new Random(3);
        for (int trial = 0; trial < 20; trial++)
        {
            double pc = -30 * random.NextDouble(), pr = -30 * random.NextDouble(), rc = -30 * random.NextDouble(), rr = -30 * random.NextDouble();
            var terms = PreferenceLoss.Compute(pc, pr, rc, rr, beta, kind, smoothing);
            Assert.Equal(ClosedForm(kind, beta, smoothing, pc, pr, rc, rr), terms.Loss, 10);
            const double step = 1e-6;
            double dc = (ClosedForm(kind, beta, smoothing, pc + step, pr, rc, rr) - ClosedForm(kind, beta, smoothing, pc - step, pr, rc, rr)) / (2 * step);
            double dr = (ClosedForm(kind, beta, smoothing, pc, pr + step, rc, rr) - ClosedForm(kind, beta, smoothing, pc, pr - step, rc, rr)) / (2 * step);
            Assert.True(Math.Abs(dc - terms.ChosenGradient) <= 1e-6 * Math.Max(1, Math.Abs(dc)), $"∂/∂chosen {terms.ChosenGradient}, finite difference {dc}");
            Assert.True(Math.Abs(dr - terms.RejectedGradient) <= 1e-6 * Math.Max(1, Math.Abs(dr)), $"∂/∂rejected {terms.RejectedGradient}, finite difference {dr}");
            Assert.Equal(beta * (pc - rc), terms.ChosenReward, 10);
            Assert.Equal(beta * (pr - rr), terms.RejectedReward, 10);
        }
        // At the start of training the policy is the reference: DPO's loss is log 2, IPO's (1/2β)².
        var start = PreferenceLoss.Compute(-5, -7, -5, -7, beta, kind, smoothing);
        Assert.Equal(kind == PreferenceLossKind.Ipo ? Math.Pow(1 / (2 * beta), 2) : Math.Log(2), start.Loss, 12);
        Assert.Equal(0, start.Margin);
    }

    [Fact]
    public void ExtremeMarginsStayFinite()
    {
        var far = PreferenceLoss.Compute(0, -1e6, 0, 0, 1);
        Assert.Equal(0, far.Loss, 12);
        var wrong = PreferenceLoss.Compute(-1e6, 0, 0, 0, 1);
        Assert.Equal(1e6, wrong.Loss, 6);
        Assert.Equal(-1, wrong.ChosenGradient, 12);
    }

    [Theory]
    [InlineData(PreferenceLossKind.Sigmoid, 0.7, 0.0, GgmlType.F32)]
    [InlineData(PreferenceLossKind.Sigmoid, 0.7, 0.1, GgmlType.Q8_0)]
    [InlineData(PreferenceLossKind.Ipo, 0.4, 0.0, GgmlType.Q4_0)]
    public void AdapterGradientsOfAPairMatchFiniteDifferences(PreferenceLossKind kind, double beta, double smoothing, GgmlType type)
    {
        var config = TinyBases.OpenLm();
        using var weights = TinyBases.Create(config, type, 3);
        var adapters = LoraAdapters.Create(config, new LoraSettings { Rank = 2, Alpha = 3, Dropout = 0 }, 4);
        var random = new Random(4);
        foreach (var adapter in adapters.All)
            for (int i = 0; i < adapter.B.Length; i++) adapter.B.Values[i] = (float)((random.NextDouble() * 2 - 1) * 0.3);
        var model = FrozenBaseModel.Build(config, weights, adapters, Pool);
        // The same three-token prompt, completed two ways; only the completions are learned.
        var pair = new PreferencePair(
            new FineTuningExample([1, 5, 9, 2, 7, 3, 12], [false, false, false, true, true, true, true], 1, ExampleFormat.PromptCompletion),
            new FineTuningExample([1, 5, 9, 4, 8], [false, false, false, true, true], 1, ExampleFormat.PromptCompletion), 1);
        var scorer = new SequenceScorer(model, 6);
        var objective = new PreferenceObjective(beta, kind, smoothing);

        var oracle = new ReferenceDecoder(config, weights, adapters);
        var values = oracle.Values();
        // log π of a side from the float64 decoder: −(mean cross-entropy over its learned tokens) × their count.
        double LogProbability(double[] p, FineTuningExample e)
        {
            int n = e.Tokens.Length - 1;
            int[] inputs = e.Tokens[..n], targets = Enumerable.Range(0, n).Select(t => e.Tokens[t + 1]).ToArray();
            bool[] mask = Enumerable.Range(0, n).Select(t => e.Learned[t + 1]).ToArray();
            return -oracle.Loss(p, inputs, targets, mask, 1, n, null) * mask.Count(m => m);
        }
        var baseOnly = (double[])values.Clone();
        foreach (var adapter in adapters.All)
            Array.Clear(baseOnly, oracle.Offsets[adapter.B], adapter.B.Length);
        double rc = LogProbability(baseOnly, pair.Chosen), rr = LogProbability(baseOnly, pair.Rejected);
        int nc = 4, nr = 2;
        double Loss(double[] p)
        {
            double pc = LogProbability(p, pair.Chosen), pr = LogProbability(p, pair.Rejected);
            return kind == PreferenceLossKind.Ipo
                ? ClosedForm(kind, beta, 0, pc / nc, pr / nr, rc / nc, rr / nr)
                : ClosedForm(kind, beta, smoothing, pc, pr, rc, rr);
        }

        // The reference through the training graph with the adapters switched off is the base alone.
        foreach (var adapter in adapters.All) adapter.Enabled = false;
        var reference = PreferenceObjective.Reference(scorer, pair);
        foreach (var adapter in adapters.All) adapter.Enabled = true;
        Assert.Equal(rc, reference.Chosen, 3);
        Assert.Equal(rr, reference.Rejected, 3);
        Assert.Equal((nc, nr), (reference.ChosenTokens, reference.RejectedTokens));

        model.ZeroGradients();
        var terms = objective.Accumulate(scorer, pair, reference, 1.0);
        Assert.Equal(Loss(values), terms.Loss, 3);
        var gradients = adapters.Parameters.SelectMany(p => p.Gradient!).ToArray();
        foreach (var tensor in adapters.Parameters)
            GradientCheck.Assert(values, Loss, gradients, $"{kind} {type} {tensor.Name}", tolerance: 2e-3,
                indices: Enumerable.Range(oracle.Offsets[tensor], tensor.Length).Where(i => i % 5 == 0));
    }
}
