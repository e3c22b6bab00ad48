using Dclm.Inference.Engine;

namespace Dclm.Inference.Tests;

public class SamplerTests
{
    // log-probabilities of a known distribution: p = [0.5, 0.25, 0.15, 0.07, 0.03]
    private static readonly double[] Probabilities = [0.5, 0.25, 0.15, 0.07, 0.03];
    private static readonly float[] Logits = Probabilities.Select(p => (float)Math.Log(p)).ToArray();

    private static double[] Frequencies(SamplingOptions options, int draws = 20000, float[]? logits = null, int[]? history = null)
    {
        var sampler = new Sampler(options, Logits.Length);
        var counts = new double[Logits.Length];
        for (int i = 0; i < draws; i++) counts[sampler.Sample(logits ?? Logits, history ?? [])]++;
        return counts.Select(c => c / draws).ToArray();
    }

    private static SamplingOptions Plain => new() { Temperature = 1, TopK = 0, TopP = 1, MinP = 0 };

    [Fact]
    public void TemperatureOneReproducesTheDistribution()
    {
        var f = Frequencies(Plain);
        for (int i = 0; i < f.Length; i++) Assert.InRange(f[i], Probabilities[i] - 0.015, Probabilities[i] + 0.015);
    }

    [Fact]
    public void GreedyPicksTheArgmaxAndTiesGoToTheLowestId()
    {
        var sampler = new Sampler(SamplingOptions.Greedy, 4);
        Assert.Equal(2, sampler.Sample([0.1f, 0.2f, 0.9f, -1f], []));
        Assert.Equal(1, sampler.Sample([0.1f, 0.9f, 0.9f, -1f], []));
    }

    [Fact]
    public void LogitBiasShiftsLogitsBeforeEverythingElse()
    {
        float[] logits = [0.1f, 0.2f, 0.9f, -1f];
        // -100 bans the argmax, so greedy takes the next best; +2 lifts the worst above it.
        Assert.Equal(1, new Sampler(SamplingOptions.Greedy with { LogitBias = new Dictionary<int, float> { [2] = -100 } }, 4).Sample(logits, []));
        Assert.Equal(3, new Sampler(SamplingOptions.Greedy with { LogitBias = new Dictionary<int, float> { [3] = 2 } }, 4).Sample(logits, []));
        // Drawing, the biased distribution is sampled: +ln 2 on token 4 doubles its weight (0.03 -> 0.06 of 1.03).
        var f = Frequencies(Plain with { LogitBias = new Dictionary<int, float> { [4] = (float)Math.Log(2) } }, draws: 40000);
        Assert.InRange(f[4], 0.06 / 1.03 - 0.006, 0.06 / 1.03 + 0.006);
        Assert.InRange(f[0], 0.5 / 1.03 - 0.015, 0.5 / 1.03 + 0.015);
        // A banned token is never drawn; the bias comes before the penalties (a banned token stays banned).
        var banned = Frequencies(Plain with { LogitBias = new Dictionary<int, float> { [0] = -100 }, PresencePenalty = -2 }, draws: 5000, history: [0]);
        Assert.Equal(0, banned[0]);
        Assert.Equal("logit_bias", Assert.Throws<RequestValidationException>(() => Plain with { LogitBias = new Dictionary<int, float> { [1] = 101 } }).Field);
        Assert.Equal("logit_bias", Assert.Throws<RequestValidationException>(() => Plain with { LogitBias = new Dictionary<int, float> { [-1] = 1 } }).Field);
    }

    [Theory]
    [InlineData("temperature", 2.5f)]
    [InlineData("temperature", -0.1f)]
    [InlineData("temperature", float.NaN)]
    [InlineData("top_p", 0f)]
    [InlineData("top_p", 1.01f)]
    [InlineData("min_p", 1.5f)]
    [InlineData("repetition_penalty", 0f)]
    [InlineData("repetition_penalty", 10.5f)]
    [InlineData("frequency_penalty", 2.5f)]
    [InlineData("presence_penalty", -2.5f)]
    public void AnOutOfRangeValueIsRefusedWhereItIsSetNamingItsField(string field, float value)
    {
        // Options are checked once, as they are made: every holder of an instance (the engine, a sampler) may trust it.
        var error = Assert.Throws<RequestValidationException>(() => field switch
        {
            "temperature" => Plain with { Temperature = value },
            "top_p" => Plain with { TopP = value },
            "min_p" => Plain with { MinP = value },
            "repetition_penalty" => Plain with { RepetitionPenalty = value },
            "frequency_penalty" => Plain with { FrequencyPenalty = value },
            _ => Plain with { PresencePenalty = value },
        });
        Assert.Equal(field, error.Field);
        Assert.Contains(field, error.Message);
        Assert.Equal("top_k", Assert.Throws<RequestValidationException>(() => Plain with { TopK = -1 }).Field);
        Assert.Equal("max_tokens", Assert.Throws<RequestValidationException>(() => Plain with { MaxTokens = -1 }).Field);
    }

    [Fact]
    public void TopKKeepsOnlyTheKMostLikely()
    {
        var f = Frequencies(Plain with { TopK = 2 });
        Assert.Equal(0, f[2] + f[3] + f[4]);
        Assert.InRange(f[0], 2.0 / 3 - 0.02, 2.0 / 3 + 0.02);
    }

    [Fact]
    public void TopPKeepsTheSmallestSetReachingP()
    {
        // 0.5 + 0.25 = 0.75 < 0.8, so the third token is needed as well.
        var f = Frequencies(Plain with { TopP = 0.8f });
        Assert.True(f[2] > 0);
        Assert.Equal(0, f[3] + f[4]);
    }

    [Theory]
    [InlineData(0.3f)] // 40 tokens: within the first 64 selected
    [InlineData(0.7f)] // 94 tokens: more than the first 64
    [InlineData(0.9f)] // ~3,025 tokens: more than 1,024, so the whole vocabulary is sorted
    public void TopPOverALargeVocabularyKeepsExactlyTheNucleus(float topP)
    {
        // 100 tokens at logit 5, 4,900 at 0: each likely one has p = e^5 / (100 e^5 + 4900) ≈ 0.00752,
        // each unlikely one ≈ 5.07e-5; ties go to the lowest id, so the nucleus is a prefix of the ids.
        const int Vocabulary = 5000;
        var logits = Enumerable.Range(0, Vocabulary).Select(i => i < 100 ? 5f : 0f).ToArray();
        double likely = Math.Exp(5) / (100 * Math.Exp(5) + 4900), unlikely = 1 / (100 * Math.Exp(5) + 4900);
        int expected = topP <= 100 * likely
            ? (int)Math.Ceiling(topP / likely - 1e-6)
            : 100 + (int)Math.Ceiling((topP - 100 * likely) / unlikely - 1e-6);
        var sampler = new Sampler(Plain with { TopP = topP, Seed = 9 }, Vocabulary);
        var drawn = Enumerable.Range(0, 4000).Select(_ => sampler.Sample(logits, [])).ToArray();
        Assert.True(drawn.Max() < expected + 1, $"drew id {drawn.Max()} outside the nucleus of {expected}");
        Assert.True(drawn.Max() >= expected - Math.Max(2, expected / 20), $"drew nothing near the end of the nucleus of {expected} (max {drawn.Max()})");
    }

    [Fact]
    public void AFullVocabularyDrawNeedsNoOrderAndStillReproducesTheDistribution()
    {
        // No top-k or top-p (OpenAI's defaults): drawn in id order without sorting 50k candidates.
        const int Vocabulary = 50432;
        var random = new Random(4);
        var logits = Enumerable.Range(0, Vocabulary).Select(_ => (float)(random.NextDouble() * 2)).ToArray();
        logits[123] = 12f;
        double total = logits.Sum(l => Math.Exp(l));
        var sampler = new Sampler(Plain with { Seed = 5 }, Vocabulary);
        int hits = Enumerable.Range(0, 20000).Count(_ => sampler.Sample(logits, []) == 123);
        Assert.InRange(hits / 20000.0, Math.Exp(12) / total - 0.02, Math.Exp(12) / total + 0.02);
        var minP = new Sampler(Plain with { MinP = 0.5f, Seed = 5 }, Vocabulary);
        Assert.All(Enumerable.Range(0, 200), _ => Assert.Equal(123, minP.Sample(logits, [])));
    }

    [Fact]
    public void MinPDropsTokensBelowAFractionOfTheBest()
    {
        // min_p 0.2 ⇒ threshold 0.1: tokens with 0.07 and 0.03 go.
        var f = Frequencies(Plain with { MinP = 0.2f });
        Assert.Equal(0, f[3] + f[4]);
        Assert.True(f[2] > 0);
    }

    [Fact]
    public void LowTemperatureSharpens()
    {
        var f = Frequencies(Plain with { Temperature = 0.25f });
        // p^4 normalised: 0.5^4 / Σ p^4 ≈ 0.938
        double expected = Math.Pow(0.5, 4) / Probabilities.Sum(p => Math.Pow(p, 4));
        Assert.InRange(f[0], expected - 0.01, expected + 0.01);
    }

    [Fact]
    public void RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits()
    {
        var sampler = new Sampler(SamplingOptions.Greedy with { RepetitionPenalty = 2f }, 3);
        // Token 0 (logit 3) is penalised to 1.5 < 2: token 1 wins. A negative logit is pushed further down.
        Assert.Equal(1, sampler.Sample([3f, 2f, -1f], [0]));
        Assert.Equal(0, sampler.Sample([3f, 2f, -1f], [2]));
        Assert.Equal(0, sampler.Sample([3f, 2f, -1f], []));
    }

    [Fact]
    public void TheSameSeedGivesTheSameDraws()
    {
        int[] Draws(ulong seed)
        {
            var sampler = new Sampler(Plain with { Seed = seed }, Logits.Length);
            return Enumerable.Range(0, 50).Select(_ => sampler.Sample(Logits, [])).ToArray();
        }
        Assert.Equal(Draws(11), Draws(11));
        Assert.NotEqual(Draws(11), Draws(12));
    }

    [Theory]
    [InlineData(-1f, 40, 0.9f, 0f)]
    [InlineData(float.NaN, 40, 0.9f, 0f)]
    [InlineData(1f, -3, 0.9f, 0f)]
    [InlineData(1f, 40, 0f, 0f)]
    [InlineData(1f, 40, 1.5f, 0f)]
    [InlineData(1f, 40, 0.9f, 2f)]
    public void OutOfRangeOptionsAreRejected(float temperature, int topK, float topP, float minP) =>
        Assert.Throws<RequestValidationException>(() => new Sampler(new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP, MinP = minP }, 10));

    private static int ScalarArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    [Fact]
    public void ArgMaxFollowsTheScalarRuleOnEveryLengthWithTiesZerosAndNaNs()
    {
        var random = new Random(3);
        foreach (int length in Enumerable.Range(1, 140).Concat([1000, 50432, 50433]))
        {
            for (int trial = 0; trial < 6; trial++)
            {
                var values = new float[length];
                for (int i = 0; i < length; i++) values[i] = (random.NextSingle() - 0.5f) * 20;
                switch (trial)
                {
                    case 1: // the maximum several times
                        for (int j = 0; j < 3; j++) values[random.Next(length)] = 50f;
                        break;
                    case 2: // all zeros of both signs
                        for (int i = 0; i < length; i++) values[i] = random.Next(2) == 0 ? 0f : -0f;
                        break;
                    case 3: // NaNs that must never win
                        for (int j = 0; j < 3; j++) values[random.Next(length)] = float.NaN;
                        break;
                    case 4: // a NaN first: the scalar rule keeps index 0
                        values[0] = float.NaN;
                        break;
                    case 5: // the maximum in the last lane only
                        values[^1] = 100f;
                        break;
                }
                Assert.Equal(ScalarArgMax(values), Sampler.ArgMax(values));
            }
        }
    }

    [Fact]
    public void TopKOverALargeVocabularyKeepsTheKBestAndBreaksTiesByLowestId()
    {
        var random = new Random(9);
        var logits = new float[5000];
        for (int i = 0; i < logits.Length; i++) logits[i] = -10 + random.NextSingle() * 5;
        foreach (int id in new[] { 4000, 100, 2500, 3000 }) logits[id] = 0;
        var sampler = new Sampler(Plain with { TopK = 3, Seed = 4 }, logits.Length);
        var counts = new Dictionary<int, int>();
        for (int i = 0; i < 3000; i++)
        {
            int token = sampler.Sample(logits, []);
            counts[token] = counts.GetValueOrDefault(token) + 1;
        }
        Assert.Equal([100, 2500, 3000], counts.Keys.Order().ToArray());
        foreach (int count in counts.Values) Assert.InRange(count, 850, 1150);
    }

    [Fact]
    public void GreedyWithARepetitionPenaltyStillAppliesIt()
    {
        var sampler = new Sampler(SamplingOptions.Greedy with { RepetitionPenalty = 2f, RepetitionWindow = 8 }, 3);
        // 0.9 / 2 = 0.45 < 0.5: the repeated token loses to the next best.
        Assert.Equal(1, sampler.Sample([0.9f, 0.5f, 0.1f], [0]));
        Assert.Equal(0, sampler.Sample([0.9f, 0.5f, 0.1f], [2]));
    }

    [Fact]
    public void FrequencyPenaltyCountsOccurrencesAndPresencePenaltyCountsOnce()
    {
        float[] logits = [1.0f, 0.9f, 0.0f];
        // Token 0 seen twice: 1.0 − 2 × 0.06 = 0.88 < 0.9; once: 0.94 > 0.9.
        Assert.Equal(1, new Sampler(SamplingOptions.Greedy with { FrequencyPenalty = 0.06f }, 3).Sample(logits, [0, 2, 0]));
        Assert.Equal(0, new Sampler(SamplingOptions.Greedy with { FrequencyPenalty = 0.06f }, 3).Sample(logits, [0, 2]));
        // Presence ignores the count: 1.0 − 0.05 = 0.95 however often token 0 appeared.
        Assert.Equal(0, new Sampler(SamplingOptions.Greedy with { PresencePenalty = 0.05f }, 3).Sample(logits, [0, 0, 0, 0]));
        Assert.Equal(1, new Sampler(SamplingOptions.Greedy with { PresencePenalty = 0.15f }, 3).Sample(logits, [0]));
        // A negative penalty favours what was seen; only the window counts.
        Assert.Equal(2, new Sampler(SamplingOptions.Greedy with { PresencePenalty = -1.5f }, 3).Sample(logits, [2]));
        Assert.Equal(2, new Sampler(SamplingOptions.Greedy with { PresencePenalty = -1.5f, RepetitionWindow = 1 }, 3).Sample(logits, [1, 2]));
        Assert.Equal(1, new Sampler(SamplingOptions.Greedy with { PresencePenalty = -1.5f, RepetitionWindow = 2 }, 3).Sample(logits, [1, 2]));
    }

    [Fact]
    public void PenaltiesComposeInLlamaCppOrderAndLeaveNoStateBehind()
    {
        var sampler = new Sampler(SamplingOptions.Greedy with { RepetitionPenalty = 2f, FrequencyPenalty = 0.1f, PresencePenalty = 0.1f }, 3);
        // Token 0: 1.0 / 2 − 2 × 0.1 − 0.1 = 0.2 < token 2's 0.3 (token 2 unseen).
        Assert.Equal(2, sampler.Sample([1.0f, -5f, 0.3f], [0, 0, 1]));
        // The next call with an empty window sees the raw logits again.
        Assert.Equal(0, sampler.Sample([1.0f, -5f, 0.3f], []));
    }

    [Theory]
    [InlineData(2.5f, 0f)]
    [InlineData(0f, -2.01f)]
    [InlineData(float.NaN, 0f)]
    public void OutOfRangePenaltiesAreRejected(float frequency, float presence) =>
        Assert.Throws<RequestValidationException>(() => new Sampler(new SamplingOptions { FrequencyPenalty = frequency, PresencePenalty = presence }, 10));

    [Fact]
    public void PooledBuffersGiveTheSameDrawsAfterAnotherSamplerDirtiedThem()
    {
        var random = new Random(21);
        var logits = Enumerable.Range(0, 5000).Select(_ => random.NextSingle() * 4).ToArray();
        int[] history = [7, 7, 42, 4999, 13];
        var options = Plain with { RepetitionPenalty = 1.3f, FrequencyPenalty = 0.2f, PresencePenalty = 0.1f, TopK = 5, Seed = 9 };
        int[] Draws()
        {
            using var sampler = new Sampler(options, logits.Length);
            return Enumerable.Range(0, 64).Select(_ => sampler.Sample(logits, history)).ToArray();
        }
        var first = Draws();
        // Another sampler rents (likely) the same arrays and leaves other values in them.
        using (var other = new Sampler(Plain with { TopK = 0, Seed = 1 }, logits.Length))
            for (int i = 0; i < 3; i++) other.Sample(logits.Select(l => -l).ToArray(), [1, 2, 3]);
        Assert.Equal(first, Draws());
    }
}
