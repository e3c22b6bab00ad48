using Dclm.Checkpoints;
using Dclm.Inference.Speculation;
using Dclm.Models;

namespace Dclm.Inference.Tests;

/// <summary>
/// Speculative decoding changes speed, never output: greedy and seeded sampling give the tokens plain decoding
/// gives, whatever the draft (right, often wrong, always wrong), and the acceptance rule keeps the target's
/// distribution (checked against the exact formula on a four-token vocabulary).
/// </summary>
public sealed class SpeculativeDecodingTests : IDisposable
{
    private static readonly string[] Prompts =
    [
        "def add(a, b):\n    return a + b\n\ndef add(a, b):\n    return",
        "The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the",
        "Once upon a time, in a land far away,",
        "1, 2, 3, 4,",
    ];

    private readonly LoadedModel _target = ModelLoader.Load(TinyModel.Path);
    private readonly OtherSeedDraftModel _otherDraft = new(contextLength: 512);

    public void Dispose()
    {
        _target.Dispose();
        _otherDraft.Dispose();
    }

    private int[] Encode(string text) => _target.Tokenizer!.Encode(text);

    private (List<int> Tokens, SpeculationStatistics? Statistics) Run(int[] prompt, SamplingOptions options, SpeculativeDecoding? speculation)
    {
        var generator = new TokenGenerator(_target.Model, _target.Tokenizer!.EndOfSequenceId, KvCacheType.F32, speculation);
        var tokens = generator.Generate(prompt, options).ToList();
        return (tokens, generator.Speculation);
    }

    private IDraftSource Source(string kind, int capacity) => kind switch
    {
        "lookup" => new PromptLookupDraft(3),
        "self" => new DraftModelSource(_target.Model, 50432, capacity),
        "other" => new DraftModelSource(_otherDraft.Model, 50432, capacity),
        "wrong" => new WrongDraft(),
        "noisy" => new NoisyDraft(new DraftModelSource(_target.Model, 50432, capacity)),
        _ => throw new ArgumentException(kind),
    };

    [Theory]
    [InlineData("lookup")]
    [InlineData("self")]
    [InlineData("other")]
    [InlineData("noisy")]
    [InlineData("wrong")]
    public void GreedyOutputIsTokenForTokenTheSameAsWithoutSpeculation(string kind)
    {
        var options = SamplingOptions.Greedy with { MaxTokens = 40 };
        long drafted = 0, accepted = 0;
        foreach (string text in Prompts)
        {
            int[] prompt = Encode(text);
            var plain = Run(prompt, options, null).Tokens;
            Assert.True(plain.Count > 8, "the reference stops too early to compare");
            var (tokens, statistics) = Run(prompt, options, new SpeculativeDecoding(Source(kind, 512), 5));
            Assert.Equal(plain, tokens);
            Assert.Equal(plain.Count, statistics!.Emitted);
            drafted += statistics.Drafted;
            accepted += statistics.Accepted;
        }
        // Each kind exercises what it should: drafts kept (a copy of the target keeps nearly all), rejected, or both.
        Assert.True(drafted > 0, "nothing was drafted");
        double rate = (double)accepted / drafted;
        switch (kind)
        {
            case "self": Assert.True(rate > 0.9, $"the target drafting for itself kept only {rate:P0}"); break;
            case "wrong": Assert.Equal(0, accepted); break;
            case "other": break; // a random model of another seed: whatever it guesses, the output stands
            default: Assert.InRange(rate, 0.05, 0.95); break;
        }
    }

    [Theory]
    [InlineData("lookup")]
    [InlineData("noisy")]
    [InlineData("wrong")]
    public void SeededSamplingGivesTheSameTokensAsWithoutSpeculation(string kind)
    {
        // Every emitted token takes the sampler's one draw in order, so even the random stream lines up.
        var options = new SamplingOptions { Temperature = 0.7f, TopK = 40, TopP = 0.95f, MinP = 0.02f, RepetitionPenalty = 1.1f, MaxTokens = 32 };
        for (int i = 0; i < Prompts.Length; i++)
        {
            int[] prompt = Encode(Prompts[i]);
            var seeded = options with { Seed = (ulong)(7 + i) };
            Assert.Equal(Run(prompt, seeded, null).Tokens, Run(prompt, seeded, new SpeculativeDecoding(Source(kind, 512), 4)).Tokens);
        }
    }

    [Fact]
    public void TheBudgetAndTheEndOfSequenceAreKeptExactly()
    {
        int[] prompt = Encode(Prompts[1]);
        for (int budget = 1; budget <= 7; budget++)
        {
            var options = SamplingOptions.Greedy with { MaxTokens = budget };
            var generator = new TokenGenerator(_target.Model, _target.Tokenizer!.EndOfSequenceId, KvCacheType.F32, new SpeculativeDecoding(new PromptLookupDraft(2), 8));
            Assert.Equal(Run(prompt, options, null).Tokens, generator.Generate(prompt, options).ToList());
            Assert.Equal(FinishReason.Length, generator.FinishReason);
        }
        // A one-token prompt has no prefill before the first drafted step.
        var one = SamplingOptions.Greedy with { MaxTokens = 12 };
        Assert.Equal(Run([510], one, null).Tokens, Run([510], one, new SpeculativeDecoding(new PromptLookupDraft(1), 4)).Tokens);
        // The end-of-sequence token ends the output wherever it falls in a step, and is not emitted.
        int[] plain = [.. Run(prompt, SamplingOptions.Greedy with { MaxTokens = 10 }, null).Tokens];
        int stopAt = plain[4];
        var generatorWithStop = new TokenGenerator(_target.Model, stopAt, KvCacheType.F32, new SpeculativeDecoding(new ReplayDraft(plain), 8));
        var stopped = generatorWithStop.Generate(prompt, SamplingOptions.Greedy with { MaxTokens = 10 }).ToList();
        Assert.Equal(plain.TakeWhile(t => t != stopAt), stopped);
        Assert.Equal(FinishReason.Stop, generatorWithStop.FinishReason);
    }

    [Fact]
    public void PromptLookupProposesWhatFollowedTheLatestMatchOfTheLongestSuffix()
    {
        Span<int> draft = stackalloc int[4];
        var lookup = new PromptLookupDraft(3);
        // Suffix [1 2] matches at 0 and 4; the latest (4) is followed by 9 9 1 2.
        Assert.Equal(4, lookup.Draft([1, 2, 3, 5, 1, 2, 9, 9, 1, 2], draft));
        Assert.Equal([9, 9, 1, 2], draft.ToArray());
        // [7 1 2] (n = 3) beats the later [1 2] (n = 2).
        Assert.Equal(4, lookup.Draft([7, 1, 2, 8, 4, 1, 2, 6, 7, 1, 2], draft));
        Assert.Equal([8, 4, 1, 2], draft.ToArray());
        // Fewer tokens than asked when the match is near the end.
        Assert.Equal(3, lookup.Draft([8, 5, 6, 8], draft));
        Assert.Equal([5, 6, 8], draft[..3].ToArray());
        // In a loop the latest match has one token after it; an earlier one gives a full draft.
        Assert.Equal(4, lookup.Draft([6, 5, 5, 5, 5, 5, 5, 5], draft));
        Assert.Equal([5, 5, 5, 5], draft.ToArray());
        Assert.Equal(0, lookup.Draft([1, 2, 3], draft));
        Assert.Equal(0, new PromptLookupDraft(3, minNgramSize: 2).Draft([5, 1, 4, 1], draft));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PromptLookupDraft(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpeculativeDecoding(lookup, 0));
    }

    [Fact]
    public void TheAcceptanceRuleKeepsTheTargetDistributionExactly()
    {
        // Four tokens, two positions, draft [2, 1]. The exact law of speculative sampling with a deterministic draft:
        // first token x ~ p1; a second token comes only when x = 2 (probability p1(2)), and then y ~ p2.
        float[] logits = [0.3f, -0.5f, 0.9f, 0.1f, /* row 2 */ -1f, 0.4f, 0.2f, 1.1f, /* row 3 */ 0, 0, 0, 0];
        var p1 = Softmax(logits.AsSpan(0, 4));
        var p2 = Softmax(logits.AsSpan(4, 4));
        int[] draft = [2, 1];
        const int Draws = 40_000;
        var first = new int[4];
        var second = new int[4];
        int accepted2 = 0;
        Span<int> emitted = stackalloc int[3];
        var options = new SamplingOptions { Temperature = 1, TopK = 0, TopP = 1, MinP = 0 };
        for (int seed = 0; seed < Draws; seed++)
        {
            using var sampler = new Sampler(options with { Seed = (ulong)seed }, 4);
            int count = DraftVerifier.Verify(sampler, logits, 4, [99], draft, null, emitted);
            first[emitted[0]]++;
            Assert.Equal(emitted[0] == 2 ? (emitted[1] == 1 ? 3 : 2) : 1, count);
            if (count >= 2) second[emitted[1]]++;
            if (count == 3) accepted2++;
        }
        // Each count within 5 standard deviations of its binomial mean.
        for (int x = 0; x < 4; x++)
        {
            AssertBinomial(first[x], Draws, p1[x]);
            AssertBinomial(second[x], Draws, p1[2] * p2[x]);
        }
        AssertBinomial(accepted2, Draws, p1[2] * p2[1]);
    }

    private static void AssertBinomial(int observed, int draws, double p)
    {
        double mean = draws * p, sigma = Math.Sqrt(draws * p * (1 - p));
        Assert.True(Math.Abs(observed - mean) <= 5 * sigma + 1, $"observed {observed}, expected {mean:F0} ± {sigma:F0}");
    }

    private static double[] Softmax(ReadOnlySpan<float> row)
    {
        double max = double.NegativeInfinity;
        foreach (float v in row) max = Math.Max(max, v);
        var e = new double[row.Length];
        for (int i = 0; i < row.Length; i++) e[i] = Math.Exp(row[i] - max);
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }

    /// <summary>Proposes a token that never follows: each guess is the last token plus one.</summary>
    private sealed class WrongDraft : IDraftSource
    {
        public int Draft(ReadOnlySpan<int> history, Span<int> destination)
        {
            for (int i = 0; i < destination.Length; i++) destination[i] = (history[^1] + 1 + i) % 50000;
            return destination.Length;
        }
    }

    /// <summary>A good draft spoiled at every third position: steps accept a prefix and then reject.</summary>
    private sealed class NoisyDraft(IDraftSource inner) : IDraftSource
    {
        public int Draft(ReadOnlySpan<int> history, Span<int> destination)
        {
            int count = inner.Draft(history, destination);
            for (int i = 2; i < count; i += 3) destination[i] = (destination[i] + 1) % 50000;
            return count;
        }
    }

    /// <summary>Proposes the known continuation (the plain output), so steps accept several tokens at once.</summary>
    private sealed class ReplayDraft(int[] continuation) : IDraftSource
    {
        private int _promptLength = -1;

        public int Draft(ReadOnlySpan<int> history, Span<int> destination)
        {
            if (_promptLength < 0) _promptLength = history.Length;
            int at = history.Length - _promptLength;
            int count = Math.Clamp(continuation.Length - at, 0, destination.Length);
            continuation.AsSpan(at, count).CopyTo(destination);
            return count;
        }
    }
}
