using Dclm.Checkpoints;
using Dclm.Inference.Constraints;
using Dclm.Inference.Engine;

namespace Dclm.Inference.Tests;

/// <summary>
/// The batching engine with prompt-lookup drafts (`dclm serve --lookup-ngram`) against plain decoding: the single-sequence
/// reference generator, and the engine without drafts. Drafts change how many tokens a step emits, never which.
/// </summary>
public sealed class SpeculativeEngineTests : IDisposable
{
    // Repetitive prompts of different lengths (lookup finds matches), and one that is not.
    internal static readonly string[] Prompts =
    [
        "def add(a, b):\n    return a + b\n\ndef add(a, b):\n    return",
        "The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the",
        "1, 2, 3, 4, 5, 6, 1, 2, 3,",
        "Once upon a time, in a land far away,",
        "<tr><td>a</td><td>b</td></tr>\n<tr><td>a</td><td>",
    ];

    private static readonly EngineOptions Lookup = new() { MaxRunningSequences = 5, LookupNgram = 2, MaxDraftTokens = 4, PrefixCacheEntries = 0 };

    private readonly LoadedModel _loaded = ModelLoader.Load(TinyModel.Path);

    public void Dispose() => _loaded.Dispose();

    private int[] Encode(string text) => _loaded.Tokenizer!.Encode(text);

    private (string Text, List<int> Tokens) Reference(int[] prompt, SamplingOptions options)
    {
        var generator = new TextGenerator(_loaded.Model, _loaded.Tokenizer!);
        string text = string.Concat(generator.Generate(prompt, options).Select(c => c.Text));
        return (text, [.. generator.GeneratedTokens]);
    }

    private static Task<GenerationResult[]> RunAll(InferenceEngine engine, IEnumerable<(int[] Prompt, SamplingOptions Options)> requests, int topLogprobs = -1) =>
        Task.WhenAll(requests.Select(r => engine.Submit(engine.CreateRequest(r.Prompt, r.Options, topLogprobs: topLogprobs)).CollectAsync()));

    [Fact]
    public async Task ConcurrentGreedyRequestsOfDifferentLengthsEqualPlainDecoding()
    {
        var requests = Prompts.Select((p, i) => (Encode(p), SamplingOptions.Greedy with { MaxTokens = 20 + 7 * i, StopAtEndOfSequence = false })).ToArray();
        using var engine = new InferenceEngine(_loaded.Model, _loaded.Tokenizer, Lookup);
        var results = await RunAll(engine, requests);
        for (int i = 0; i < requests.Length; i++)
        {
            var expected = Reference(requests[i].Item1, requests[i].Item2);
            Assert.Equal(expected.Tokens, results[i].TokenIds);
            Assert.Equal(expected.Text, results[i].Text);
            Assert.Equal(FinishReason.Length, results[i].FinishReason);
        }
        var statistics = engine.Statistics;
        Assert.True(statistics.AcceptedDraftTokens > 0, $"no draft was accepted ({statistics.DraftedTokens} drafted)");
        Assert.InRange(statistics.DraftAcceptanceRate, 0, 1);
        // Accepted drafts save steps: fewer steps than tokens of the longest request plus its prefill.
        Assert.Equal(requests.Sum(r => (long)r.Item2.MaxTokens), statistics.GeneratedTokens);
        Assert.True(statistics.Steps < requests.Max(r => r.Item2.MaxTokens), $"{statistics.Steps} steps: no step emitted several tokens");
        Assert.Equal(0, statistics.UsedBlocks);
    }

    [Fact]
    public async Task MaxTokensAndStopStringsLandingInsideAnAcceptedRunCutWherePlainDecodingCuts()
    {
        // This prompt's greedy text on the tiny model repeats itself ("letes corpletes corpletes", "half half half …").
        int[] prompt = Encode(Prompts[3]);
        var full = Reference(prompt, SamplingOptions.Greedy with { MaxTokens = 40, StopAtEndOfSequence = false });
        // Every budget from 1 to 24 tokens: some end inside a step's accepted draft.
        var budgets = Enumerable.Range(1, 24).Select(m => (prompt, SamplingOptions.Greedy with { MaxTokens = m, StopAtEndOfSequence = false }));
        // Stop strings that first appear at several places of the greedy text (two characters from each token's start on).
        var decoded = full.Tokens.Select(t => _loaded.Tokenizer!.Decode([t])).ToArray();
        var stops = Enumerable.Range(2, 20).Select(i => string.Concat(decoded.Skip(i).Take(2))).Where(s => s.Trim().Length > 1).Distinct().Take(6).ToArray();
        Assert.True(stops.Length >= 3, "the greedy text has too few stop candidates");
        var stopped = stops.Select(s => (prompt, SamplingOptions.Greedy with { MaxTokens = 40, StopAtEndOfSequence = false, StopStrings = [s] }));

        using var engine = new InferenceEngine(_loaded.Model, _loaded.Tokenizer, Lookup with { MaxRunningSequences = 8 });
        var requests = budgets.Concat(stopped).ToArray();
        var results = await RunAll(engine, requests);
        for (int i = 0; i < requests.Length; i++)
        {
            var expected = Reference(requests[i].prompt, requests[i].Item2);
            Assert.Equal(expected.Tokens, results[i].TokenIds);
            Assert.Equal(expected.Text, results[i].Text);
        }
        for (int m = 1; m <= 24; m++) Assert.Equal(FinishReason.Length, results[m - 1].FinishReason);
        for (int i = 24; i < requests.Length; i++)
        {
            Assert.Equal(FinishReason.Stop, results[i].FinishReason);
            Assert.DoesNotContain(requests[i].Item2.StopStrings[0], results[i].Text);
        }
        Assert.True(engine.Statistics.AcceptedDraftTokens > 0, "no draft was accepted");
        Assert.Equal(0, engine.Statistics.UsedBlocks);
    }

    [Fact]
    public async Task SeededSamplingPenaltiesLogprobsAndJsonModeEqualTheEngineWithoutDrafts()
    {
        var sampled = new SamplingOptions { Temperature = 0.8f, TopK = 40, TopP = 0.95f, MaxTokens = 24, StopAtEndOfSequence = false };
        var requests = Prompts.Select((p, i) => (Encode(p), sampled with
        {
            Seed = (ulong)(7 + i), Temperature = i == 0 ? 0 : 0.8f,
            RepetitionPenalty = i == 1 ? 1.3f : 1, FrequencyPenalty = i == 2 ? 0.5f : 0, PresencePenalty = i == 3 ? 0.4f : 0,
        })).ToArray();

        using var plain = new InferenceEngine(_loaded.Model, _loaded.Tokenizer, Lookup with { LookupNgram = 0 });
        using var speculative = new InferenceEngine(_loaded.Model, _loaded.Tokenizer, Lookup);
        var expected = await RunAll(plain, requests, topLogprobs: 2);
        var actual = await RunAll(speculative, requests, topLogprobs: 2);
        for (int i = 0; i < requests.Length; i++)
        {
            Assert.Equal(expected[i].TokenIds, actual[i].TokenIds);
            Assert.Equal(expected[i].Text, actual[i].Text);
            Assert.Equal(expected[i].Logprobs.Select(l => (l.Logprob, string.Join(",", l.Top))), actual[i].Logprobs.Select(l => (l.Logprob, string.Join(",", l.Top))));
            Assert.Equal(expected[i].Usage.Stability, actual[i].Usage.Stability);
        }
        // The seeded requests alone equal the reference generator too.
        Assert.Equal(Reference(requests[1].Item1, requests[1].Item2).Tokens, actual[1].TokenIds);
        Assert.True(speculative.Statistics.DraftedTokens > 0, "nothing was drafted");

        // JSON mode: the constraint advances once per emitted token, as in plain decoding.
        var table = TokenByteTable.For(_loaded.Tokenizer!, _loaded.Config.VocabularySize);
        var json = JsonReplyConstraint.Factory(table, [_loaded.Tokenizer!.EndOfSequenceId!.Value], null);
        int[] jsonPrompt = Encode("{\"a\": 1, \"b\": 2, \"c\": 3, \"a\": 1, \"b\":");
        var options = SamplingOptions.Greedy with { MaxTokens = 30 };
        var jsonPlain = await plain.Submit(plain.CreateRequest(jsonPrompt, options, constraint: json)).CollectAsync();
        var jsonSpeculative = await speculative.Submit(speculative.CreateRequest(jsonPrompt, options, constraint: json)).CollectAsync();
        Assert.Equal(jsonPlain.TokenIds, jsonSpeculative.TokenIds);
        Assert.Equal(jsonPlain.FinishReason, jsonSpeculative.FinishReason);
    }

    [Fact]
    public async Task EveryKvBlockComesBackAfterRequestsFinishOrAreCancelled()
    {
        using var engine = new InferenceEngine(_loaded.Model, _loaded.Tokenizer, Lookup with { MaxRunningSequences = 4, BlockSize = 4 });
        var options = SamplingOptions.Greedy with { MaxTokens = 200, StopAtEndOfSequence = false };
        using var cancel = new CancellationTokenSource();
        var cancelled = engine.Submit(engine.CreateRequest(Encode(Prompts[1]), options), cancel.Token);
        var finished = RunAll(engine, Prompts.Take(3).Select(p => (Encode(p), options with { MaxTokens = 30 })));
        int seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in cancelled)
                if (++seen == 10) cancel.Cancel();
        });
        await finished;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (engine.Statistics.RunningSequences > 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(0, engine.Statistics.RunningSequences);
        Assert.Equal(0, engine.Statistics.UsedBlocks);
        Assert.True(engine.Statistics.DraftedTokens > 0, "nothing was drafted");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    public void ADraftLengthOutsideTheExactRangeIsRefused(int draftMax)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new InferenceEngine(_loaded.Model, _loaded.Tokenizer, Lookup with { MaxDraftTokens = draftMax }));
        Assert.Contains($"draft tokens per step {draftMax} must be in [1, 14]", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new InferenceEngine(_loaded.Model, _loaded.Tokenizer, Lookup with { LookupNgram = -1 }));
    }
}
