using Dclm.Checkpoints;
using Dclm.Inference;
using Dclm.Inference.Engine;
using Dclm.Models.Adapters;

namespace Dclm.Inference.Tests;

/// <summary>The batching engine against the single-sequence reference generator on the same model.</summary>
public sealed class EngineTests : IDisposable
{
    private static readonly string[] Prompts =
    [
        "The quick brown fox", "Once upon a time, in a land far away,", "def fibonacci(n):", "1, 2, 3, 4,",
        "Paris is the capital of", "In 1969 the first", "The weather today is", "Q: What is two plus two?\nA:",
    ];

    private readonly LoadedModel _loaded = ModelLoader.Load(TinyModel.Path);

    private (string Text, List<int> Tokens) Reference(int[] prompt, SamplingOptions options, Dclm.Models.KvCacheType kv = Dclm.Models.KvCacheType.F32)
    {
        var generator = new TextGenerator(_loaded.Model, _loaded.Tokenizer!, kv);
        string text = string.Concat(generator.Generate(prompt, options).Select(c => c.Text));
        return (text, [.. generator.GeneratedTokens]);
    }

    private int[] Encode(string text) => _loaded.Tokenizer!.Encode(text);

    [Fact]
    public async Task EightConcurrentGreedyRequestsEqualEachRunAlone()
    {
        var options = SamplingOptions.Greedy with { MaxTokens = 24 };
        var expected = Prompts.Select(p => Reference(Encode(p), options)).ToArray();
        Assert.All(expected, e => Assert.True(e.Tokens.Count > 4, "the reference stops too early to compare"));
        using var engine = new InferenceEngine(_loaded.Model, _loaded.Tokenizer, new EngineOptions { MaxRunningSequences = 8, StepTokenBudget = 16 });
        var results = await Task.WhenAll(Prompts.Select(p => engine.Submit(engine.CreateRequest(Encode(p), options)).CollectAsync()));
        for (int i = 0; i < Prompts.Length; i++)
        {
            Assert.Equal(expected[i].Tokens, results[i].TokenIds);
            Assert.Equal(expected[i].Text, results[i].Text);
        }
        Assert.True(engine.Statistics.Steps < Prompts.Length * 24, $"{engine.Statistics.Steps} steps: the requests were not batched");
    }

    [Fact]
    public async Task WithAnInt8KvCacheBatchingAndPrefixReuseChangeNothing()
    {
        var options = SamplingOptions.Greedy with { MaxTokens = 16 };
        var int8 = new EngineOptions { KvCacheType = Dclm.Models.KvCacheType.Int8, MaxRunningSequences = 8, StepTokenBudget = 16, KvMemoryBytes = 1 << 20 };
        // Alone = the single-sequence generator (`dclm generate --kv-type int8`) with its own int8 cache.
        List<int> Alone(int[] prompt) => Reference(prompt, options, Dclm.Models.KvCacheType.Int8).Tokens;

        using var engine = new InferenceEngine(_loaded.Model, _loaded.Tokenizer, int8);
        var batched = await Task.WhenAll(Prompts.Select(p => engine.Submit(engine.CreateRequest(Encode(p), options)).CollectAsync()));
        for (int i = 0; i < Prompts.Length; i++) Assert.Equal(Alone(Encode(Prompts[i])), batched[i].TokenIds);

        // A second turn shares the first turn's int8 blocks (copied when it writes into the last one).
        int[] second = [.. Encode(Prompts[1]), .. batched[1].TokenIds, .. Encode(" And then")];
        var turn2 = await engine.Submit(engine.CreateRequest(second, options)).CollectAsync();
        Assert.True(turn2.Usage.CachedTokens > Encode(Prompts[1]).Length, $"only {turn2.Usage.CachedTokens} cached tokens reused");
        Assert.Equal(Alone(second), turn2.TokenIds);

        // The same memory holds about 3.2 times the positions (a float scale per head of 16 int8 values here).
        using var exact = new InferenceEngine(_loaded.Model, _loaded.Tokenizer, int8 with { KvCacheType = Dclm.Models.KvCacheType.F32 });
        Assert.InRange((double)engine.Options.KvBlocks / exact.Options.KvBlocks, 3.0, 4.0);
        Assert.InRange(engine.KvCacheBytes, 1 << 19, 1 << 20);
        Assert.InRange(exact.KvCacheBytes, 1 << 19, 1 << 20);
    }

    [Fact]
    public async Task SeededSamplingEqualsTheSameRequestRunAlone()
    {
        var options = new SamplingOptions { Temperature = 0.9f, TopK = 40, TopP = 0.95f, MinP = 0.02f, MaxTokens = 20 };
        var seeded = Prompts.Take(4).Select((p, i) => (Prompt: Encode(p), Options: options with { Seed = (ulong)(100 + i) })).ToArray();
        var expected = seeded.Select(s => Reference(s.Prompt, s.Options)).ToArray();
        using var engine = new InferenceEngine(_loaded.Model, _loaded.Tokenizer, new EngineOptions { MaxRunningSequences = 4 });
        var results = await Task.WhenAll(seeded.Select(s => engine.Submit(engine.CreateRequest(s.Prompt, s.Options)).CollectAsync()));
        for (int i = 0; i < seeded.Length; i++) Assert.Equal(expected[i].Tokens, results[i].TokenIds);
    }

    [Fact]
    public async Task ASecondTurnReusesTheFirstTurnsKeysAndValues()
    {
        var options = SamplingOptions.Greedy with { MaxTokens = 12 };
        using var engine = new InferenceEngine(_loaded.Model, _loaded.Tokenizer, new EngineOptions { MaxRunningSequences = 2 });
        int[] first = Encode("User: tell me a story about a dragon\nAssistant:");
        var turn1 = await engine.Submit(engine.CreateRequest(first, options)).CollectAsync();
        Assert.Equal(0, turn1.Usage.CachedTokens);
        int[] second = [.. first, .. turn1.TokenIds, .. Encode("\nUser: and then?\nAssistant:")];
        long prefillBefore = engine.Statistics.PrefillTokens;
        var turn2 = await engine.Submit(engine.CreateRequest(second, options)).CollectAsync();

        // Every token the first turn computed (its prompt and all but the last generated token) is reused.
        Assert.Equal(first.Length + turn1.TokenIds.Count - 1, turn2.Usage.CachedTokens);
        Assert.True(engine.Statistics.PrefillTokens - prefillBefore < second.Length - turn2.Usage.CachedTokens + 1);
        Assert.Equal(turn2.Usage.CachedTokens, engine.Statistics.PrefixCacheHitTokens);
        Assert.Equal(Reference(second, options).Tokens, turn2.TokenIds);
    }

    [Fact]
    public async Task APromptSharingWholeBlocksWithARunningSequenceReusesThem()
    {
        var options = SamplingOptions.Greedy with { MaxTokens = 300, StopAtEndOfSequence = false };
        using var engine = new InferenceEngine(_loaded.Model, _loaded.Tokenizer, new EngineOptions { MaxRunningSequences = 2, PrefixCacheEntries = 0, BlockSize = 16 });
        int[] system = Encode("System: you are a careful assistant who answers questions about astronomy, geology and the history of science in plain words.");
        int[] first = [.. system, .. Encode("\nUser: why is the sky blue?")];
        int[] second = [.. system, .. Encode("\nUser: how old is the moon?")];
        int common = 0;
        while (first[common] == second[common]) common++;
        int expected = common / 16 * 16;
        Assert.True(expected >= 16, "the prompts share less than one block");
        var secondOptions = options with { MaxTokens = 12 };

        // The second request arrives while the first is generating: the engine is held before its second step, after the
        // one that ran the first prompt (whole: it is shorter than the step's token budget), until the second is submitted.
        using var held = new ManualResetEventSlim(false);
        using var submitted = new ManualResetEventSlim(false);
        engine.BeforeStep = steps =>
        {
            if (steps != 1) return;
            held.Set();
            Assert.True(submitted.Wait(TimeSpan.FromMinutes(5)), "the test never submitted");
        };
        Assert.True(first.Length < engine.Options.StepTokenBudget);
        await using var running = engine.Submit(engine.CreateRequest(first, options)).GetAsyncEnumerator();
        Assert.True(held.Wait(TimeSpan.FromMinutes(5)), "the engine never ran the first prompt");
        var secondStream = engine.Submit(engine.CreateRequest(second, secondOptions));
        submitted.Set();
        var reused = await secondStream.CollectAsync();
        List<int> firstTokens = [];
        while (await running.MoveNextAsync()) if (running.Current.TokenId >= 0) firstTokens.Add(running.Current.TokenId);

        Assert.Equal(expected, reused.Usage.CachedTokens);
        // Sharing changes nothing: both equal what each gives alone.
        Assert.Equal(Reference(second, secondOptions).Tokens, reused.TokenIds);
        Assert.Equal(Reference(first, options).Tokens, firstTokens);
    }

    [Fact]
    public async Task ChoicesOfOnePromptComputeItOnceAndStillDrawWhatEachSeedGivesAlone()
    {
        int[] prompt = Encode("System: you are a careful assistant who answers questions about astronomy, geology and the history of science.\nUser: why is the sky blue?\nAssistant:");
        int shared = (prompt.Length - 1) / 16 * 16;
        Assert.True(shared >= 32, "the prompt is too short to share blocks");
        var choices = Enumerable.Range(0, 4).Select(i => new SamplingOptions { Temperature = 0.9f, TopK = 40, MaxTokens = 10, Seed = (ulong)(50 + i) }).ToArray();
        using var engine = new InferenceEngine(_loaded.Model, _loaded.Tokenizer, new EngineOptions { MaxRunningSequences = 4, PrefixCacheEntries = 0, BlockSize = 16 });
        // Submitted together, as the server does for n choices: one computes the prompt, the others wait a step and share it.
        var streams = choices.Select(o => engine.Submit(engine.CreateRequest(prompt, o))).ToArray();
        var results = await Task.WhenAll(streams.Select(s => s.CollectAsync()));
        Assert.Equal([0, shared, shared, shared], results.Select(r => r.Usage.CachedTokens).ToArray());
        Assert.Equal(3L * shared, engine.Statistics.PrefixCacheHitTokens);
        for (int i = 0; i < choices.Length; i++) Assert.Equal(Reference(prompt, choices[i]).Tokens, results[i].TokenIds);
    }

    [Fact]
    public async Task AShortKvPoolPreemptsAndStillGivesTheSameOutputs()
    {
        var options = SamplingOptions.Greedy with { MaxTokens = 40 };
        var expected = Prompts.Take(6).Select(p => Reference(Encode(p), options)).ToArray();
        // 12 blocks of 8 positions: room for about two of the six 45-to-55-token sequences at once.
        using var engine = new InferenceEngine(_loaded.Model, _loaded.Tokenizer,
            new EngineOptions { MaxRunningSequences = 6, BlockSize = 8, KvBlocks = 12, ContextLength = 96, PrefixCacheEntries = 2 });
        var results = await Task.WhenAll(Prompts.Take(6).Select(p => engine.Submit(engine.CreateRequest(Encode(p), options)).CollectAsync()));
        for (int i = 0; i < results.Length; i++) Assert.Equal(expected[i].Tokens, results[i].TokenIds);
        Assert.True(engine.Statistics.Preemptions > 0, "the pool was never short");
    }

    [Fact]
    public async Task CancellingARequestEndsItsSequenceAndFreesItsSlot()
    {
        using var engine = new InferenceEngine(_loaded.Model, _loaded.Tokenizer, new EngineOptions { MaxRunningSequences = 2, PrefixCacheEntries = 0 });
        // The engine is held before its fourth step until the reader, having seen three tokens, has cancelled: so the
        // sequence cannot finish its 400 tokens first, and at most the held step runs after the cancellation.
        using var cancel = new CancellationTokenSource();
        using var cancelled = new ManualResetEventSlim(false);
        engine.BeforeStep = steps => { if (steps == 3) Assert.True(cancelled.Wait(TimeSpan.FromMinutes(5)), "the test never cancelled"); };
        var stream = engine.Submit(engine.CreateRequest(Encode("Count forever:"), SamplingOptions.Greedy with { MaxTokens = 400, StopAtEndOfSequence = false }), cancel.Token);
        int seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in stream)
                if (++seen == 3)
                {
                    cancel.Cancel();
                    cancelled.Set();
                }
        });
        Assert.InRange(seen, 3, 4);
        var after = await engine.Submit(engine.CreateRequest(Encode("Hello"), SamplingOptions.Greedy with { MaxTokens = 3 })).CollectAsync();
        Assert.Equal(3, after.TokenIds.Count);
        Assert.Equal(0, engine.Statistics.RunningSequences);
        Assert.Equal(0, engine.Statistics.UsedBlocks);
    }

    [Fact]
    public async Task SteadyDecodeAllocatesNothingOnTheEngineThread()
    {
        // Four sequences, two greedy and two sampled, streaming text to readers that keep up: once every prompt has
        // run, each step is four decode tokens, and a hundred of them must not allocate a byte on the engine thread
        // (schedule, batch, forward, draws, text, stop checks, output, statistics).
        using var engine = new InferenceEngine(_loaded.Model, _loaded.Tokenizer, new EngineOptions { MaxRunningSequences = 4, PrefixCacheEntries = 0 });
        var greedy = SamplingOptions.Greedy with { MaxTokens = 200, StopAtEndOfSequence = false, StopStrings = ["never appears, but is checked"] };
        var sampled = new SamplingOptions { Temperature = 0.9f, TopK = 40, MaxTokens = 200, StopAtEndOfSequence = false, Seed = 5 };
        var requests = Prompts.Take(4).Select((p, i) => engine.CreateRequest(Encode(p), i % 2 == 0 ? greedy : sampled)).ToArray();
        await AssertSteadyDecodeAllocatesNothing(engine, requests);
    }

    [Fact]
    public async Task SteadyDecodeWithLoraAdaptersAllocatesNothingOnTheEngineThread()
    {
        // The same four decode tokens a step, two of them on two served adapters (each slot assigned its adapter
        // every step, the adapters' low-rank products added to their rows) and two on the bare base.
        var adapters = new AdapterSet(_loaded.Model);
        int first = adapters.Add("one", RandomAdapter(_loaded.Model.Config, seed: 1));
        int second = adapters.Add("two", RandomAdapter(_loaded.Model.Config, seed: 2));
        using var engine = new InferenceEngine(_loaded.Model, _loaded.Tokenizer, new EngineOptions { MaxRunningSequences = 4, PrefixCacheEntries = 0 }, adapters);
        var greedy = SamplingOptions.Greedy with { MaxTokens = 200, StopAtEndOfSequence = false, StopStrings = ["never appears, but is checked"] };
        var sampled = new SamplingOptions { Temperature = 0.9f, TopK = 40, MaxTokens = 200, StopAtEndOfSequence = false, Seed = 5 };
        // Same prompt and options on the base and on an adapter, so the replies show the adapters ran.
        GenerationRequest[] requests =
        [
            engine.CreateRequest(Encode(Prompts[0]), greedy),
            engine.CreateRequest(Encode(Prompts[0]), greedy, adapter: first),
            engine.CreateRequest(Encode(Prompts[1]), sampled),
            engine.CreateRequest(Encode(Prompts[1]), sampled, adapter: second),
        ];
        var results = await AssertSteadyDecodeAllocatesNothing(engine, requests);
        Assert.NotEqual(results[0].TokenIds, results[1].TokenIds);
        Assert.NotEqual(results[2].TokenIds, results[3].TokenIds);
        Assert.Equal("model", Assert.Throws<RequestValidationException>(() => engine.CreateRequest(Encode(Prompts[0]), greedy, adapter: 3)).Field);
    }

    /// <summary>A random adapter of rank 4 on every projection of every layer, big enough to change the replies.</summary>
    private static LoraWeights RandomAdapter(Dclm.Models.ModelConfig config, int seed)
    {
        var random = new Random(seed);
        float[] Values(int count) => Enumerable.Range(0, count).Select(_ => (random.NextSingle() - 0.5f) * 0.4f).ToArray();
        const int rank = 4;
        var updates = new List<LoraUpdate>();
        for (int layer = 0; layer < config.Layers; layer++)
            foreach (var target in LoraTargets.All)
            {
                var (rows, columns) = LoraTargets.Shape(target, config);
                updates.Add(new LoraUpdate(layer, target, Values(rank * columns), Values(rows * rank), rank, 2f));
            }
        return new LoraWeights(config, updates);
    }

    /// <summary>Runs four 200-token requests together and requires 100 steps of four decode tokens to allocate nothing on the engine thread.</summary>
    private static async Task<GenerationResult[]> AssertSteadyDecodeAllocatesNothing(InferenceEngine engine, GenerationRequest[] requests)
    {
        var trace = new StepTrace(400);
        engine.Trace = trace;
        var results = await Task.WhenAll(requests.Select(r => engine.Submit(r).CollectAsync()));
        Assert.All(results, r => Assert.Equal(200, r.TokenIds.Count));

        // A hundred steps of four decode tokens, starting ten past the first such step (the requests may arrive a few
        // steps apart; the first steps grow buffers, such as decoders' byte lists and samplers' rented arrays, to size).
        int first = 0;
        while (first < trace.Count && (trace[first].Tokens, trace[first].Draws) != (4, 4)) first++;
        int From = first + 10, To = From + 100;
        Assert.True(trace.Count > To, $"only {trace.Count} steps were recorded, the first of four decode tokens at {first}");
        for (int step = From + 1; step <= To; step++)
            Assert.Equal((4, 4), (trace[step].Tokens, trace[step].Draws));
        long allocated = trace[To].AllocatedBytes - trace[From].AllocatedBytes;
        var steps = Enumerable.Range(From + 1, 100).Where(k => trace[k].AllocatedBytes != trace[k - 1].AllocatedBytes)
            .Select(k => $"step {k}: {trace[k].AllocatedBytes - trace[k - 1].AllocatedBytes}");
        Assert.True(allocated == 0, $"100 steady decode steps allocated {allocated} bytes on the engine thread ({string.Join(", ", steps)})");
        return results;
    }

    [Fact]
    public void RequestsBeyondTheContextOrVocabularyAreRefusedByName()
    {
        using var engine = new InferenceEngine(_loaded.Model, _loaded.Tokenizer, new EngineOptions { ContextLength = 64 });
        var tooLong = Assert.Throws<RequestValidationException>(() => engine.CreateRequest(new int[60], SamplingOptions.Greedy with { MaxTokens = 5 }));
        Assert.Equal("max_tokens", tooLong.Field);
        Assert.Equal("prompt", Assert.Throws<RequestValidationException>(() => engine.CreateRequest([], SamplingOptions.Greedy)).Field);
        Assert.Equal("prompt", Assert.Throws<RequestValidationException>(() => engine.CreateRequest([50432], SamplingOptions.Greedy)).Field);
    }

    [Fact]
    public async Task AFullQueueRefusesInsteadOfGrowing()
    {
        using var engine = new InferenceEngine(_loaded.Model, _loaded.Tokenizer, new EngineOptions { MaxRunningSequences = 1, MaxWaitingRequests = 2 });
        using var cancel = new CancellationTokenSource();
        var request = engine.CreateRequest(Encode("Hello there"), SamplingOptions.Greedy with { MaxTokens = 200 });
        var accepted = new List<GenerationStream>();
        Exception? refusal = null;
        for (int i = 0; i < 10 && refusal is null; i++)
        {
            try { accepted.Add(engine.Submit(request, cancel.Token)); }
            catch (EngineBusyException e) { refusal = e; }
        }
        Assert.NotNull(refusal);
        Assert.InRange(accepted.Count, 2, 3);
        cancel.Cancel();
    }

    public void Dispose() => _loaded.Dispose();
}
