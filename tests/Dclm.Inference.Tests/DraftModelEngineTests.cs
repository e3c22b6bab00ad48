using Dclm.Checkpoints;
using Dclm.Inference.Engine;
using Dclm.Models;

namespace Dclm.Inference.Tests;

/// <summary>
/// The batching engine with a draft model (`dclm serve --model-draft`) against plain decoding by the single-sequence
/// reference generator: the target as its own draft (nearly every draft kept) and a small model of another seed (nearly
/// none kept) give the same tokens, every KV block comes back, and each running sequence's draft source goes back to the
/// pool when it finishes, is cancelled or is preempted.
/// </summary>
public sealed class DraftModelEngineTests : IDisposable
{
    // The prompt-lookup engine tests' prompts: repetitive ones of different lengths and one that is not.
    private static readonly string[] Prompts = SpeculativeEngineTests.Prompts;

    private readonly LoadedModel _target = ModelLoader.Load(TinyModel.Path);
    private readonly OtherSeedDraftModel _otherDraft = new(contextLength: 256);

    public void Dispose()
    {
        _target.Dispose();
        _otherDraft.Dispose();
    }

    private DecoderModel Draft(string kind) => kind == "self" ? _target.Model : _otherDraft.Model;

    private EngineOptions Options(string kind) =>
        new() { MaxRunningSequences = 3, ContextLength = 256, MaxDraftTokens = 4, PrefixCacheEntries = 0, DraftModel = Draft(kind) };

    private int[] Encode(string text) => _target.Tokenizer!.Encode(text);

    private List<int> Reference(int[] prompt, SamplingOptions options)
    {
        var generator = new TextGenerator(_target.Model, _target.Tokenizer!);
        _ = string.Concat(generator.Generate(prompt, options).Select(c => c.Text));
        return [.. generator.GeneratedTokens];
    }

    private static async Task WaitForSourcesBack(InferenceEngine engine)
    {
        // The engine gives sources back on its next round, after the streams have ended.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((engine.DraftSources.Held > 0 || engine.Statistics.RunningSequences > 0) && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(0, engine.DraftSources.Held);
        Assert.Equal(0, engine.Statistics.UsedBlocks);
    }

    [Theory]
    [InlineData("self")]
    [InlineData("other")]
    public async Task ConcurrentGreedyRequestsEqualPlainDecoding(string kind)
    {
        var requests = Prompts.Select((p, i) => (Prompt: Encode(p), Options: SamplingOptions.Greedy with { MaxTokens = 16 + 5 * i, StopAtEndOfSequence = false })).ToArray();
        using var engine = new InferenceEngine(_target.Model, _target.Tokenizer, Options(kind));
        var results = await Task.WhenAll(requests.Select(r => engine.Submit(engine.CreateRequest(r.Prompt, r.Options)).CollectAsync()));
        for (int i = 0; i < requests.Length; i++)
        {
            Assert.Equal(Reference(requests[i].Prompt, requests[i].Options), results[i].TokenIds);
            Assert.Equal(FinishReason.Length, results[i].FinishReason);
        }
        var statistics = engine.Statistics;
        Assert.True(statistics.DraftedTokens > 0, "nothing was drafted");
        // The target drafting for itself agrees with itself but for rounding near-ties (its draft runs in a
        // one-sequence cache, the check in the batch); another seed's model agrees by chance only.
        if (kind == "self") Assert.True(statistics.DraftAcceptanceRate > 0.9, $"acceptance {statistics.DraftAcceptanceRate:F2}");
        else Assert.True(statistics.DraftAcceptanceRate < 0.5, $"acceptance {statistics.DraftAcceptanceRate:F2}");
        Assert.Equal(requests.Sum(r => (long)r.Options.MaxTokens), statistics.GeneratedTokens);
        await WaitForSourcesBack(engine);
        // Five requests through three running slots: later sequences reuse the sources earlier ones gave back.
        Assert.InRange(engine.DraftSources.Created, 1, 3);
    }

    [Fact]
    public async Task CancelledAndPreemptedSequencesGiveTheirSourcesBack()
    {
        // 16 blocks of 16 positions hold one 256-token sequence; three growing ones run out and preempt.
        using var engine = new InferenceEngine(_target.Model, _target.Tokenizer, Options("self") with { KvBlocks = 16 });
        var options = SamplingOptions.Greedy with { MaxTokens = 120, StopAtEndOfSequence = false };
        using var cancel = new CancellationTokenSource();
        var cancelled = engine.Submit(engine.CreateRequest(Encode(Prompts[1]), options with { MaxTokens = 200 }), cancel.Token);
        var finishing = Prompts.Skip(2).Take(2).Select(p => (Prompt: Encode(p), Options: options)).ToArray();
        var finished = Task.WhenAll(finishing.Select(r => engine.Submit(engine.CreateRequest(r.Prompt, r.Options)).CollectAsync()));
        int seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in cancelled)
                if (++seen == 10) cancel.Cancel();
        });
        var results = await finished;
        for (int i = 0; i < finishing.Length; i++) Assert.Equal(Reference(finishing[i].Prompt, finishing[i].Options), results[i].TokenIds);
        Assert.True(engine.Statistics.Preemptions > 0, "no sequence was preempted");
        Assert.True(engine.Statistics.AcceptedDraftTokens > 0, "no draft was accepted");
        await WaitForSourcesBack(engine);
    }

    [Fact]
    public void ADraftModelWithPromptLookupOrAShorterContextIsRefused()
    {
        var both = Assert.Throws<ArgumentOutOfRangeException>(() => new InferenceEngine(_target.Model, _target.Tokenizer, Options("other") with { LookupNgram = 2 }));
        Assert.Contains("a draft model or prompt lookup, not both", both.Message);
        var shorter = Assert.Throws<ArgumentOutOfRangeException>(() => new InferenceEngine(_target.Model, _target.Tokenizer, Options("other") with { ContextLength = 384 }));
        Assert.Contains("the draft model's context is 256 tokens; the engine's sequences reach 384", shorter.Message);
    }
}
