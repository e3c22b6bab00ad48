using Dclm.Models;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Training.Alignment;
using Dclm.Training.Alignment.Reinforcement;
using Dclm.Training.FineTuning;

namespace Dclm.Training.Tests.Alignment;

/// <summary>
/// The policy-gradient objectives (GRPO's and PPO's clipped objective with GAE, the value loss) through a tiny model,
/// against central differences of the same objectives written out here from their definitions over the float64
/// reference decoder's log-probabilities and hidden states; and the per-token terms against their definitions.
/// </summary>
public class PolicyGradientTests
{
    private static readonly ComputePool Pool = new(2);

    /// <summary>Two rollouts of unequal lengths (padded in one batch) with old/reference log-probabilities near the policy's, so some ratios clip.</summary>
    private static RolloutSequence[] Rollouts(ReferenceDecoder oracle, double[] values, Random random)
    {
        var sequences = new[] { new RolloutSequence([1, 5, 9, 2, 7, 3, 12], 3), new RolloutSequence([1, 4, 8, 6, 11], 2) };
        foreach (var s in sequences)
        {
            var lp = oracle.LogProbabilities(values, s.Tokens);
            for (int j = 0; j < s.Actions; j++)
            {
                double now = lp[s.PromptLength - 1 + j];
                // Every other token well outside the clip range, the rest inside it.
                s.OldLogProbabilities[j] = now + (j % 2 == 0 ? 0.5 : 0.05) * (random.NextDouble() * 2 - 1);
                s.ReferenceLogProbabilities[j] = now + 0.4 * (random.NextDouble() * 2 - 1);
                s.Advantages[j] = random.NextDouble() * 2 - 1;
                s.OldValues[j] = random.NextDouble() - 0.5;
                s.Returns[j] = random.NextDouble() * 2 - 1;
            }
        }
        return sequences;
    }

    private static double Surrogate(double lp, double old, double a, double clip)
    {
        double ratio = Math.Exp(lp - old);
        return -Math.Min(ratio * a, Math.Clamp(ratio, 1 - clip, 1 + clip) * a);
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.Q4_0)]
    public void GrpoObjectiveGradientsMatchFiniteDifferences(GgmlType type)
    {
        var config = TinyBases.OpenLm();
        using var weights = TinyBases.Create(config, type, 3);
        var adapters = TinyAdapters.Random(config, 4);
        var model = FrozenBaseModel.Build(config, weights, adapters, Pool);
        var oracle = new ReferenceDecoder(config, weights, adapters);
        var values = oracle.Values();
        var sequences = Rollouts(oracle, values, new Random(5));
        const double clip = 0.2, beta = 0.3, scale = 0.25;
        // GRPO: A is one value per sequence (the group-relative advantage), broadcast to its tokens.
        foreach (var s in sequences) Array.Fill(s.Advantages, s.Advantages[0]);
        double Loss(double[] p)
        {
            double total = 0;
            foreach (var s in sequences)
            {
                var lp = oracle.LogProbabilities(p, s.Tokens);
                for (int j = 0; j < s.Actions; j++)
                {
                    double l = lp[s.PromptLength - 1 + j], d = s.ReferenceLogProbabilities[j] - l;
                    total += Surrogate(l, s.OldLogProbabilities[j], s.Advantages[j], clip) + beta * (Math.Exp(d) - d - 1);
                }
            }
            return scale * total;
        }

        var objective = new PolicyObjective(model, null, 2, 8, clip, beta, 0, 0);
        model.ZeroGradients();
        var evaluated = objective.Evaluate(sequences);
        var terms = objective.Accumulate(sequences, scale);
        Assert.Equal(evaluated, terms);
        Assert.Equal(7, terms.Tokens);
        Assert.InRange(terms.Clipped, 1, 6);
        Assert.Equal(Loss(values), scale * terms.Loss, 3);
        var gradients = adapters.Parameters.SelectMany(p => p.Gradient!).ToArray();
        foreach (var tensor in adapters.Parameters)
            GradientCheck.Assert(values, Loss, gradients, $"grpo {type} {tensor.Name}", tolerance: 2e-3,
                indices: Enumerable.Range(oracle.Offsets[tensor], tensor.Length).Where(i => i % 5 == 0));
    }

    /// <summary>
    /// PPO: rewards carry −β(ℓ_old − ℓ_ref) on every token and the score on the last; GAE turns them and the value head's
    /// old estimates into A_t and R_t (checked against the recursion written out); the loss = clipped surrogate + c_v ×
    /// clipped value loss with V = w·h, whose gradient reaches the adapters through both heads and w through the value head.
    /// </summary>
    [Fact]
    public void PpoObjectiveWithGaeAndValueLossMatchesFiniteDifferences()
    {
        var config = TinyBases.OpenLm();
        using var weights = TinyBases.Create(config, GgmlType.F32, 7);
        var adapters = TinyAdapters.Random(config, 8);
        var model = FrozenBaseModel.Build(config, weights, adapters, Pool);
        var head = RewardHead.Create(config.Dim, 11);
        var oracle = new ReferenceDecoder(config, weights, adapters);
        int adapterCount = oracle.Values().Length;
        var values = oracle.Values().Concat(head.Weight.Values.Select(v => (double)v)).ToArray();
        var random = new Random(9);
        var sequences = Rollouts(oracle, values, random);
        const double clip = 0.2, valueClip = 0.1, valueCoefficient = 0.5, gamma = 0.9, lambda = 0.8, kl = 0.05, scale = 0.5;
        foreach (var s in sequences)
        {
            double score = random.NextDouble() * 2 - 1;
            var rewards = new double[s.Actions];
            for (int j = 0; j < s.Actions; j++) rewards[j] = -kl * (s.OldLogProbabilities[j] - s.ReferenceLogProbabilities[j]);
            rewards[^1] += score;
            PolicyLoss.Gae(rewards, s.OldValues, gamma, lambda, s.Advantages, s.Returns);
            // GAE written out: A_t = Σ_k (γλ)^k δ_{t+k}, δ_t = r_t + γV_{t+1} − V_t.
            for (int t = 0; t < s.Actions; t++)
            {
                double a = 0;
                for (int k = t; k < s.Actions; k++)
                    a += Math.Pow(gamma * lambda, k - t) * (rewards[k] + gamma * (k + 1 < s.Actions ? s.OldValues[k + 1] : 0) - s.OldValues[k]);
                Assert.Equal(a, s.Advantages[t], 10);
                Assert.Equal(a + s.OldValues[t], s.Returns[t], 10);
            }
        }
        double Loss(double[] p)
        {
            double total = 0;
            foreach (var s in sequences)
            {
                var lp = oracle.LogProbabilities(p, s.Tokens);
                var hidden = oracle.Hidden(p, s.Tokens);
                for (int j = 0; j < s.Actions; j++)
                {
                    int position = s.PromptLength - 1 + j;
                    double v = 0;
                    for (int i = 0; i < config.Dim; i++) v += p[adapterCount + i] * hidden[position][i];
                    double vc = s.OldValues[j] + Math.Clamp(v - s.OldValues[j], -valueClip, valueClip);
                    double valueLoss = 0.5 * Math.Max((v - s.Returns[j]) * (v - s.Returns[j]), (vc - s.Returns[j]) * (vc - s.Returns[j]));
                    total += Surrogate(lp[position], s.OldLogProbabilities[j], s.Advantages[j], clip) + valueCoefficient * valueLoss;
                }
            }
            return scale * total;
        }

        var objective = new PolicyObjective(model, head, 2, 8, clip, kl, valueCoefficient, valueClip);
        model.ZeroGradients();
        Array.Clear(head.Weight.Gradient!);
        var terms = objective.Accumulate(sequences, scale);
        Assert.Equal(Loss(values), scale * terms.Loss, 3);
        Assert.True(terms.ValueLoss > 0);
        var gradients = adapters.Parameters.SelectMany(p => p.Gradient!).Concat(head.Weight.Gradient!).ToArray();
        foreach (var tensor in adapters.Parameters)
            GradientCheck.Assert(values, Loss, gradients, $"ppo {tensor.Name}", tolerance: 2e-3,
                indices: Enumerable.Range(oracle.Offsets[tensor], tensor.Length).Where(i => i % 5 == 0));
        GradientCheck.Assert(values, Loss, gradients, "ppo value head", tolerance: 2e-3, indices: Enumerable.Range(adapterCount, config.Dim));
    }

    [Fact]
    public void PerTokenTermsMatchTheirDefinitions()
    {
        var random = new Random(3);
        const double h = 1e-6;
        for (int trial = 0; trial < 200; trial++)
        {
            double lp = -3 * random.NextDouble(), old = lp + (random.NextDouble() - 0.5), a = 2 * random.NextDouble() - 1, reference = lp + (random.NextDouble() - 0.5);
            var (loss, gradient, clipped) = PolicyLoss.Surrogate(lp, old, a, 0.2);
            Assert.Equal(Surrogate(lp, old, a, 0.2), loss, 12);
            double ratio = Math.Exp(lp - old);
            Assert.Equal(ratio * a > Math.Clamp(ratio, 0.8, 1.2) * a, clipped);
            if (Math.Abs(ratio - 0.8) > 1e-3 && Math.Abs(ratio - 1.2) > 1e-3)
                Assert.Equal((Surrogate(lp + h, old, a, 0.2) - Surrogate(lp - h, old, a, 0.2)) / (2 * h), gradient, 5);
            var (kl, klGradient) = PolicyLoss.KlPenalty(lp, reference);
            double K(double l) => Math.Exp(reference - l) - (reference - l) - 1;
            Assert.True(kl >= 0);
            Assert.Equal(K(lp), kl, 12);
            Assert.Equal((K(lp + h) - K(lp - h)) / (2 * h), klGradient, 5);
            double v = random.NextDouble() * 2 - 1, vOld = v + (random.NextDouble() - 0.5), target = random.NextDouble() * 2 - 1;
            double V(double x) { double c = vOld + Math.Clamp(x - vOld, -0.2, 0.2); return 0.5 * Math.Max((x - target) * (x - target), (c - target) * (c - target)); }
            var (valueLoss, valueGradient) = PolicyLoss.Value(v, vOld, target, 0.2);
            Assert.Equal(V(v), valueLoss, 12);
            if (Math.Abs(Math.Abs(v - vOld) - 0.2) > 1e-3) Assert.Equal((V(v + h) - V(v - h)) / (2 * h), valueGradient, 5);
        }
        Assert.Equal(0, PolicyLoss.KlPenalty(-1.5, -1.5).Value, 15);
    }

    [Fact]
    public void GroupAdvantagesAreStandardisedWithinEachGroup()
    {
        double[] rewards = [1, 0, 0, 1, 0.5, 0.5, 0.5, 0.5];
        var advantages = new double[8];
        PolicyLoss.GroupAdvantages(rewards, 4, advantages);
        // Group 1: mean 0.5, population std 0.5.
        Assert.Equal(0.5 / (0.5 + 1e-4), advantages[0], 12);
        Assert.Equal(-0.5 / (0.5 + 1e-4), advantages[1], 12);
        Assert.All(advantages[4..], a => Assert.Equal(0, a));
        Assert.Throws<ArgumentException>(() => PolicyLoss.GroupAdvantages(rewards, 3, advantages));
    }
}
