using Dclm.Checkpoints;
using Dclm.Inference.Engine;
using Dclm.Models;

namespace Dclm.Inference.Tests;

/// <summary>
/// The engine over a sliding-window model: its KV cache rolls, so long generations run in a pool far smaller than their
/// full contexts, and a second chat turn still reuses the first turn's keys and values, all giving what the
/// single-sequence generator gives.
/// </summary>
public sealed class WindowedEngineTests : IDisposable
{
    private const int Window = 16, BlockSize = 4;
    private static readonly Lazy<string> Model = new(() =>
    {
        string directory = Path.Combine(Path.GetTempPath(), $"dclm-windowed-model-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        return TinyNeoXModels.Write(directory,
            ModelConfig.OpenLm(dim: 64, layers: 2, heads: 4, vocabularySize: 50432, contextLength: 512) with { SlidingWindow = Window },
            seed: 11, weightScale: 0.5f, Path.Combine(AppContext.BaseDirectory, "fixtures", "gpt-neox-20b.vocab.gguf"));
    });

    private readonly LoadedModel _loaded = ModelLoader.Load(Model.Value);

    private List<int> Reference(int[] prompt, SamplingOptions options)
    {
        var generator = new TextGenerator(_loaded.Model, _loaded.Tokenizer!);
        foreach (var _ in generator.Generate(prompt, options)) { }
        return [.. generator.GeneratedTokens];
    }

    private int[] Encode(string text) => _loaded.Tokenizer!.Encode(text);

    [Fact]
    public async Task LongGenerationsRunInAPoolSizedByTheWindow()
    {
        var options = SamplingOptions.Greedy with { MaxTokens = 120, StopAtEndOfSequence = false };
        string[] prompts = ["The quick brown fox", "Once upon a time", "def fibonacci(n):", "1, 2, 3, 4,"];
        using var engine = new InferenceEngine(_loaded.Model, _loaded.Tokenizer, new EngineOptions { MaxRunningSequences = 4, StepTokenBudget = 16, BlockSize = BlockSize });
        // One window plus one step per sequence, not the 512-position context: (16 − 2)/4 + 3 + 16/4 + 1 = 11 blocks each.
        Assert.Equal(4 * 11, engine.Options.KvBlocks);
        var results = await Task.WhenAll(prompts.Select(p => engine.Submit(engine.CreateRequest(Encode(p), options)).CollectAsync()));
        int fullBlocks = prompts.Sum(p => (Encode(p).Length + options.MaxTokens + BlockSize - 1) / BlockSize);
        Assert.True(fullBlocks > 2 * engine.Options.KvBlocks, $"full caches would take {fullBlocks} blocks");
        Assert.Equal(0, engine.Statistics.Preemptions);
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(options.MaxTokens, results[i].TokenIds.Count);
            Assert.Equal(Reference(Encode(prompts[i]), options), results[i].TokenIds);
        }
    }

    [Fact]
    public async Task PromptLookupDraftsRewindTheRollingCacheAndChangeNothing()
    {
        // Drafts are capped at one block (4 here, not the 8 asked), the most a rolling slot can rewind.
        var options = SamplingOptions.Greedy with { MaxTokens = 80, StopAtEndOfSequence = false };
        string[] prompts = ["a b c d a b c d a b c d a b", "1, 2, 3, 1, 2, 3, 1, 2,", "Once upon a time, in a land far away,"];
        using var engine = new InferenceEngine(_loaded.Model, _loaded.Tokenizer,
            new EngineOptions { MaxRunningSequences = 3, StepTokenBudget = 16, BlockSize = BlockSize, LookupNgram = 2, MaxDraftTokens = 8, PrefixCacheEntries = 0 });
        var results = await Task.WhenAll(prompts.Select(p => engine.Submit(engine.CreateRequest(Encode(p), options)).CollectAsync()));
        for (int i = 0; i < prompts.Length; i++) Assert.Equal(Reference(Encode(prompts[i]), options), results[i].TokenIds);
        Assert.True(engine.Statistics.DraftedTokens > 0, "nothing was drafted");
        Assert.True(engine.Statistics.DraftedTokens > engine.Statistics.AcceptedDraftTokens, "no draft was rejected: no rewind was tested");
        Assert.Equal(0, engine.Statistics.UsedBlocks);
    }

    [Fact]
    public async Task ASecondTurnReusesTheFirstTurnsWindow()
    {
        var options = SamplingOptions.Greedy with { MaxTokens = 40, StopAtEndOfSequence = false };
        using var engine = new InferenceEngine(_loaded.Model, _loaded.Tokenizer, new EngineOptions { MaxRunningSequences = 2, BlockSize = BlockSize });
        int[] first = Encode("User: tell me a story about a dragon\nAssistant:");
        var turn1 = await engine.Submit(engine.CreateRequest(first, options)).CollectAsync();
        int[] second = [.. first, .. turn1.TokenIds, .. Encode("\nUser: and then?\nAssistant:")];
        var turn2 = await engine.Submit(engine.CreateRequest(second, options)).CollectAsync();
        // The first turn's slot holds only its last window, which is all a continuation reads: everything is reused.
        Assert.Equal(first.Length + turn1.TokenIds.Count - 1, turn2.Usage.CachedTokens);
        Assert.Equal(Reference(second, options), turn2.TokenIds);
        // A prompt that shares only the first turn's start cannot reuse it: those blocks went back to the pool.
        int[] other = [.. first, .. Encode(" Once there was a knight")];
        var turn3 = await engine.Submit(engine.CreateRequest(other, options)).CollectAsync();
        Assert.Equal(0, turn3.Usage.CachedTokens);
        Assert.Equal(Reference(other, options), turn3.TokenIds);
    }

    public void Dispose() => _loaded.Dispose();
}
