using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dclm.Benchmarks;
using Dclm.Checkpoints;
using Dclm.Inference;
using Dclm.Inference.Engine;
using Dclm.Server.Hosting;
using Dclm.Tensors;

namespace Dclm.Server.Tests;

/// <summary>
/// `dclm serve --lookup-ngram`: concurrent requests on Q4_0 and Q8_0 weights decode to what the engine gives without
/// drafts, /metrics reports drafted and accepted tokens (by prompt lookup and by a draft model), and bad options are one
/// line naming the option.
/// </summary>
public sealed class SpeculativeServingTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-spec-serve-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Llama-shaped, 256 columns (whole groups of eight Q4_0/Q8_0 blocks), random weights.</summary>
    private static readonly BenchShape Small = new("spec-serve-test", false, 256, 2, 4, 2, 512, 640);

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q8_0)]
    public async Task ConcurrentRequestsOnQuantizedWeightsDecodeAsWithoutDrafts(GgmlType type)
    {
        using var model = ModelLoader.Load(SyntheticGguf.Ensure(_directory, Small, type));
        int vocabulary = model.Config.VocabularySize;
        var random = new Random(5);
        int[][] prompts =
        [
            SpeculationBench.RepetitivePrompt(64, vocabulary), SpeculationBench.RepetitivePrompt(100, vocabulary),
            Enumerable.Range(0, 40).Select(_ => random.Next(vocabulary)).ToArray(),
        ];
        // Three sequences of at most 1 + 4 tokens: every step, prefill included, has at most 15 tokens, the most for
        // which the few-token kernels give each token its one-token bits (beyond, the tile kernels round otherwise).
        var options = new EngineOptions { MaxRunningSequences = 3, StepTokenBudget = 15, PrefixCacheEntries = 0, ContextLength = 256 };
        var sampling = new[] { 40, 33, 25 }.Select(m => SamplingOptions.Greedy with { MaxTokens = m }).ToArray();

        async Task<(GenerationResult[] Results, EngineStatistics Statistics)> Run(int lookup)
        {
            using var engine = new InferenceEngine(model.Model, null, options with { LookupNgram = lookup, MaxDraftTokens = 4 });
            var results = await Task.WhenAll(prompts.Select((p, i) => engine.Submit(engine.CreateRequest(p, sampling[i])).CollectAsync()));
            return (results, engine.Statistics);
        }

        var plain = await Run(0);
        var speculative = await Run(3);
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(sampling[i].MaxTokens, plain.Results[i].TokenIds.Count);
            Assert.Equal(plain.Results[i].TokenIds, speculative.Results[i].TokenIds);
        }
        Assert.True(speculative.Statistics.AcceptedDraftTokens > 0, $"{type}: no draft was accepted");
        Assert.True(speculative.Statistics.Steps < plain.Statistics.Steps, $"{type}: {speculative.Statistics.Steps} steps with drafts, {plain.Statistics.Steps} without");
        Assert.Equal(0, speculative.Statistics.UsedBlocks);
        Assert.Equal(0, plain.Statistics.DraftedTokens);
    }

    /// <summary>A tiny NeoX-vocabulary model that only ever says " the", so every draft prompt lookup or the model itself makes is right.</summary>
    private string WriteTheRepeatingModel()
    {
        string vocabulary = Path.Combine(AppContext.BaseDirectory, "fixtures", "gpt-neox-20b.vocab.gguf");
        int token = Tokenizers.Tokenizer.Load(vocabulary).Encode(" the")[0];
        return TinyNeoXModels.WriteRepeating(_directory, vocabulary, token, 8f);
    }

    [Fact]
    public async Task MetricsReportDraftedAndAcceptedTokensAndTheRate()
    {
        string model = WriteTheRepeatingModel();
        var options = ServerFixture.Options() with { ModelPath = model };
        await using var server = await DclmServer.StartAsync(options with { Engine = options.Engine with { LookupNgram = 2, MaxDraftTokens = 4 } });
        await server.Host.Loading;
        using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(2) };
        string expected = string.Concat(Enumerable.Repeat(" the", 16));

        using var response = await client.PostAsync("/v1/completions", ServerFixture.Json("""{"prompt": "the the the", "max_tokens": 16, "temperature": 0}"""));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(expected, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        // Streaming sends every accepted token as its own event.
        var events = await ServerFixture.StreamAsync(client, "/v1/completions", """{"prompt": "the the the", "max_tokens": 16, "temperature": 0, "stream": true}""");
        var texts = events.Where(e => e != "[DONE]").Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0].GetProperty("text").GetString()).ToArray();
        Assert.Equal(expected, string.Concat(texts));
        Assert.Equal(16, texts.Count(t => t == " the"));

        string metrics = await client.GetStringAsync("/metrics");
        double drafted = Value(metrics, "dclm_draft_tokens_total"), accepted = Value(metrics, "dclm_draft_accepted_tokens_total");
        // The model only ever says " the", so every draft that lookup makes is right.
        Assert.True(drafted >= 2 * 4, $"{drafted} tokens drafted");
        Assert.Equal(drafted, accepted);
        Assert.Equal(1, Value(metrics, "dclm_draft_acceptance_rate"));
        Assert.Equal(32, Value(metrics, "dclm_generated_tokens_total"));
        Assert.Equal(2, Value(metrics, "dclm_output_mean_logprob_count"));
    }

    [Fact]
    public async Task ADraftModelServesTheSameTextAndCountsItsDrafts()
    {
        string model = WriteTheRepeatingModel();
        var options = ServerFixture.Options() with { ModelPath = model };
        // The model as its own draft: every draft is what the model then says.
        await using var server = await DclmServer.StartAsync(options with { DraftModelPath = model, Engine = options.Engine with { MaxDraftTokens = 4 } });
        await server.Host.Loading;
        Assert.NotNull(server.Host.Engine!.Options.DraftModel);
        using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(2) };
        var requests = Enumerable.Range(0, 3).Select(_ => client.PostAsync("/v1/completions", ServerFixture.Json("""{"prompt": "the the the", "max_tokens": 16, "temperature": 0}""")));
        foreach (var response in await Task.WhenAll(requests))
        {
            Assert.Equal(200, (int)response.StatusCode);
            Assert.Equal(string.Concat(Enumerable.Repeat(" the", 16)),
                JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
            response.Dispose();
        }
        string metrics = await client.GetStringAsync("/metrics");
        double drafted = Value(metrics, "dclm_draft_tokens_total"), accepted = Value(metrics, "dclm_draft_accepted_tokens_total");
        Assert.True(drafted >= 3 * 4, $"{drafted} tokens drafted");
        Assert.Equal(drafted, accepted);
        Assert.Equal(48, Value(metrics, "dclm_generated_tokens_total"));
    }

    private static double Value(string metrics, string name)
    {
        var line = metrics.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        return double.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData("--lookup-ngram 0", "--lookup-ngram 0 must be at least 1")]
    [InlineData("--lookup-ngram 3 --draft-max 0", "--draft-max 0 must be in [1, 14]")]
    [InlineData("--lookup-ngram 3 --draft-max 15", "--draft-max 15 must be in [1, 14]")]
    [InlineData("--draft-max 4", "--draft-max needs --lookup-ngram")]
    [InlineData("--lookup-ngram 3 --model-draft MODEL", "give at most one of --model-draft and --lookup-ngram")]
    [InlineData("--model-draft /no/such/draft", "--model-draft /no/such/draft: no such file or directory")]
    [InlineData("--model-draft OTHER-VOCABULARY", "the draft model's vocabulary has 640 tokens")]
    [InlineData("--model-draft MODEL --draft-max 15", "--draft-max 15 must be in [1, 14]")]
    public async Task BadSpeculationOptionsAreOneLineNamingTheOption(string arguments, string message)
    {
        if (arguments.Contains("OTHER-VOCABULARY", StringComparison.Ordinal))
            arguments = arguments.Replace("OTHER-VOCABULARY", SyntheticGguf.Ensure(_directory, Small, GgmlType.Q8_0), StringComparison.Ordinal);
        arguments = arguments.Replace("MODEL", TinyModel.Path, StringComparison.Ordinal);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in (string[])[Path.Combine(AppContext.BaseDirectory, "dclm.dll"), "serve", "--model", TinyModel.Path, "--port", "0", .. arguments.Split(' ')])
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        string error = await process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains(message, error);
        // A draft model is checked while the server loads, after its "serving" line; the error is still one line.
        var lines = error.Trim().Split('\n').SkipWhile(line => line.StartsWith("dclm: serving ", StringComparison.Ordinal));
        Assert.Contains(message, Assert.Single(lines));
    }
}
