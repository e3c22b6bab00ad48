using System.ClientModel;
using System.Text.Json;
using Dclm.Chat;
using Dclm.Checkpoints;
using Dclm.Checkpoints.Adapters;
using Dclm.Inference;
using Dclm.Inference.Engine;
using Dclm.Models;
using Dclm.Models.Adapters;
using Dclm.Server.Hosting;
using Dclm.Tensors;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;

namespace Dclm.Server.Tests;

/// <summary>
/// LoRA adapters served beside one base: sequences on different adapters and on the bare base share steps and each
/// gives the greedy tokens of the merged model alone (the reference: the base with W + s·B·A folded in by
/// <see cref="AdapterMerger"/>, written as a GGUF file, loaded on its own and run by the single-sequence generator);
/// the request's model picks the adapter over HTTP, through the OpenAI SDK and in process; adapters load at run time,
/// and bad ones are refused with 4xx JSON errors.
/// </summary>
public sealed class AdapterServingTests : IAsyncLifetime
{
    private static readonly string[] Prompts = ["The quick brown fox", "Once upon a time,", "def fibonacci(n):"];
    private readonly LoadedModel _reference = ModelLoader.Load(TinyModel.Path);
    private readonly LoraWeights[] _adapters;
    // [0]: the base; [i]: the base with adapter i - 1 merged into its weights.
    private readonly LoadedModel[] _merged;
    private DclmServer _server = null!;
    private HttpClient _client = null!;

    public AdapterServingTests()
    {
        _adapters = [.. TinyAdapters.Pair(_reference.Config), TinyAdapters.Random(_reference.Config, [LoraTarget.Query, LoraTarget.Output, LoraTarget.Gate], 3)];
        _merged = [_reference, .. _adapters.Select((adapter, i) => ModelLoader.Load(Merge(adapter, $"merged-{i}")))];
    }

    /// <summary>The base with <paramref name="adapter"/> merged, as an F32 GGUF file like <c>dclm merge</c> writes.</summary>
    private string Merge(LoraWeights adapter, string name)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"dclm-adapters-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, name + ".gguf");
        AdapterMerger.Merge(_reference, adapter, path, GgmlType.F32, w => GgufTokenizerWriter.Write(w, _reference.Tokenizer!.Vocabulary));
        return path;
    }

    public async Task InitializeAsync()
    {
        _server = await DclmServer.StartAsync(ServerFixture.Options() with
        {
            Adapters = [new AdapterSource("support", TinyAdapters.Write(_adapters[0], "support")), AdapterSource.Parse(TinyAdapters.Write(_adapters[1], "legal"))],
            AllowAdapterLoading = true,
        });
        await _server.Host.Loading;
        _client = new HttpClient { BaseAddress = _server.Address, Timeout = TimeSpan.FromMinutes(2) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
        foreach (var model in _merged) model.Dispose();
    }

    /// <summary>Greedy tokens and text of <paramref name="prompt"/> alone on the merged model of adapter <paramref name="adapter"/> (0: the base).</summary>
    private (List<int> Tokens, string Text) Alone(int[] prompt, int adapter, int maxTokens)
    {
        var model = _merged[adapter];
        var generator = new TextGenerator(model.Model, model.Tokenizer!);
        string text = string.Concat(generator.Generate(prompt, SamplingOptions.Greedy with { MaxTokens = maxTokens }).Select(c => c.Text));
        return ([.. generator.GeneratedTokens], text);
    }

    private string AloneText(string prompt, int adapter, int maxTokens) => Alone(_reference.Tokenizer!.Encode(prompt), adapter, maxTokens).Text;

    [Fact]
    public async Task TwoAdaptersAndTheBareBaseInOneBatchGiveTheTokensOfEachAlone()
    {
        const int maxTokens = 16;
        var options = SamplingOptions.Greedy with { MaxTokens = maxTokens };
        var prompts = Prompts.Select(p => _reference.Tokenizer!.Encode(p)).ToArray();
        var expected = prompts.Select(p => new[] { 0, 1, 2 }.Select(a => Alone(p, a, maxTokens).Tokens).ToArray()).ToArray();
        // The adapters must change what the model says, or the comparison proves nothing.
        for (int p = 0; p < prompts.Length; p++)
        {
            Assert.NotEqual(expected[p][0], expected[p][1]);
            Assert.NotEqual(expected[p][0], expected[p][2]);
            Assert.NotEqual(expected[p][1], expected[p][2]);
        }

        using var loaded = ModelLoader.Load(TinyModel.Path);
        var served = new AdapterSet(loaded.Model);
        served.Add("support", _adapters[0]);
        served.Add("legal", _adapters[1]);
        using var engine = new InferenceEngine(loaded.Model, loaded.Tokenizer, new EngineOptions { MaxRunningSequences = 9, StepTokenBudget = 64 }, served);
        var requests = prompts.SelectMany(p => new[] { 0, 1, 2 }.Select(a => engine.CreateRequest(p, options, adapter: a))).ToArray();
        var results = await Task.WhenAll(requests.Select(r => engine.Submit(r).CollectAsync()));
        for (int p = 0; p < prompts.Length; p++)
            for (int a = 0; a < 3; a++) Assert.Equal(expected[p][a], results[p * 3 + a].TokenIds);
        Assert.True(engine.Statistics.Steps < requests.Length * maxTokens / 2, $"{engine.Statistics.Steps} steps: the nine sequences were not batched");

        // One after another on the same prompt, the prefix cache must not hand one adapter's keys and values to another.
        foreach (int a in new[] { 0, 2, 1, 0 })
        {
            var again = await engine.Submit(engine.CreateRequest(prompts[1], options, adapter: a)).CollectAsync();
            Assert.Equal(expected[1][a], again.TokenIds);
        }
        Assert.Equal("model", Assert.Throws<RequestValidationException>(() => engine.CreateRequest(prompts[0], options, adapter: 3)).Field);
    }

    [Fact]
    public async Task TheModelFieldPicksTheAdapterOverHttp()
    {
        var models = JsonDocument.Parse(await _client.GetStringAsync("/v1/models")).RootElement.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal([_server.Host.ModelId, "support", "legal"], models.Select(m => m.GetProperty("id").GetString()));
        Assert.False(models[0].TryGetProperty("parent", out _));
        Assert.Equal(_server.Host.ModelId, models[1].GetProperty("parent").GetString());
        Assert.EndsWith("legal", models[2].GetProperty("root").GetString());

        // The three at once over HTTP; each equals its reference alone.
        string[] names = [_server.Host.ModelId, "support", "legal"];
        var replies = await Task.WhenAll(names.Select(name => Post("/v1/completions", $$"""{"model": "{{name}}", "prompt": "{{Prompts[0]}}", "max_tokens": 12, "temperature": 0}""")));
        for (int a = 0; a < 3; a++)
        {
            Assert.Equal(200, replies[a].Status);
            Assert.Equal(names[a], replies[a].Body.GetProperty("model").GetString());
            Assert.Equal(AloneText(Prompts[0], a, 12), replies[a].Body.GetProperty("choices")[0].GetProperty("text").GetString());
        }
        // No model means the base.
        var (_, plain) = await Post("/v1/completions", $$"""{"prompt": "{{Prompts[0]}}", "max_tokens": 12, "temperature": 0}""");
        Assert.Equal(replies[0].Body.GetProperty("choices")[0].GetProperty("text").GetString(), plain.GetProperty("choices")[0].GetProperty("text").GetString());

        var (status, error) = await Post("/v1/chat/completions", """{"model": "medical", "messages": [{"role": "user", "content": "hi"}]}""");
        Assert.Equal(404, status);
        Assert.Equal("model_not_found", error.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("'support'", error.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task TheOpenAiSdkAndTheInProcessClientPickTheAdapterByModel()
    {
        ChatClient Sdk(string model) => new(model, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(_server.Address, "v1") });
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 12 };
        string Text(ChatCompletion c) => string.Concat(c.Content.Select(p => p.Text));
        ChatCompletion viaBase = (await Sdk(_server.Host.ModelId).CompleteChatAsync([new UserChatMessage("Name a colour.")], options)).Value;
        ChatCompletion viaSupport = (await Sdk("support").CompleteChatAsync([new UserChatMessage("Name a colour.")], options)).Value;
        Assert.Equal("support", viaSupport.Model);
        Assert.NotEqual(Text(viaBase), Text(viaSupport));

        // The same request through the raw HTTP API and the in-process IChatClient (by ChatOptions.ModelId, and by the client's default).
        var (_, http) = await Post("/v1/chat/completions", """{"model": "support", "messages": [{"role": "user", "content": "Name a colour."}], "max_tokens": 12, "temperature": 0}""");
        Assert.Equal(http.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), Text(viaSupport));
        List<Microsoft.Extensions.AI.ChatMessage> messages = [new(ChatRole.User, "Name a colour.")];
        using IChatClient chat = new EngineChatClient(_server.Host);
        var inProcess = await chat.GetResponseAsync(messages, new ChatOptions { ModelId = "support", Temperature = 0, MaxOutputTokens = 12 });
        Assert.Equal(Text(viaSupport), inProcess.Text);
        Assert.Equal("support", inProcess.ModelId);
        using IChatClient supportByDefault = new EngineChatClient(_server.Host, "support");
        Assert.Equal(Text(viaSupport), (await supportByDefault.GetResponseAsync(messages, new ChatOptions { Temperature = 0, MaxOutputTokens = 12 })).Text);
        Assert.Equal(Text(viaBase), (await chat.GetResponseAsync(messages, new ChatOptions { Temperature = 0, MaxOutputTokens = 12 })).Text);
        await Assert.ThrowsAsync<ArgumentException>(() => chat.GetResponseAsync(messages, new ChatOptions { ModelId = "medical" }));
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => Sdk("medical").CompleteChatAsync([new UserChatMessage("hi")]))).Status);
    }

    [Fact]
    public async Task AnAdapterLoadedAtRunTimeServesAndBadOnesAreRefused()
    {
        string path = TinyAdapters.Write(_adapters[2], "runtime");
        var (status, added) = await Post("/v1/lora-adapters", $$"""{"lora_name": "runtime", "lora_path": {{JsonSerializer.Serialize(path)}}}""");
        Assert.Equal(200, status);
        Assert.Equal("runtime", added.GetProperty("id").GetString());
        Assert.Equal(_server.Host.ModelId, added.GetProperty("parent").GetString());
        var (_, reply) = await Post("/v1/completions", $$"""{"model": "runtime", "prompt": "{{Prompts[2]}}", "max_tokens": 12, "temperature": 0}""");
        Assert.Equal(AloneText(Prompts[2], 3, 12), reply.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Contains("runtime", JsonDocument.Parse(await _client.GetStringAsync("/v1/models")).RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()));

        // An adapter made for a model of another width: refused by tensor name and shape.
        var narrow = _reference.Config with { Dim = 32, HiddenDim = 64 };
        string wrongShape = TinyAdapters.Write(TinyAdapters.Random(narrow, [LoraTarget.Query], 4), "narrow");
        string notAnAdapter = Directory.CreateTempSubdirectory("dclm-not-adapter-").FullName;
        (string Body, string Param, string Message)[] bad =
        [
            ($$"""{"lora_name": "runtime", "lora_path": {{JsonSerializer.Serialize(path)}}}""", "lora_name", "already served"),
            ($$"""{"lora_name": "{{_server.Host.ModelId}}", "lora_path": {{JsonSerializer.Serialize(path)}}}""", "lora_name", "already served"),
            ("""{"lora_name": "x", "lora_path": "/no/such/adapter"}""", "lora_path", "is not a directory"),
            ($$"""{"lora_name": "x", "lora_path": {{JsonSerializer.Serialize(notAnAdapter)}}}""", "lora_path", "no adapter_config.json"),
            ($$"""{"lora_name": "x", "lora_path": {{JsonSerializer.Serialize(wrongShape)}}}""", "lora_path", "in_proj.lora_A.weight is [4, 32]"),
            ("""{"lora_path": "/tmp"}""", "lora_name", "lora_name must"),
            ("""{"lora_name": "x"}""", "lora_path", "lora_path must"),
            ("""{"lora_name": " x", "lora_path": "/tmp"}""", "lora_name", "not an adapter name"),
        ];
        foreach (var (body, param, message) in bad)
        {
            var (code, error) = await Post("/v1/lora-adapters", body);
            Assert.Equal(400, code);
            Assert.Equal(param, error.GetProperty("error").GetProperty("param").GetString());
            Assert.Contains(message, error.GetProperty("error").GetProperty("message").GetString());
        }
        Assert.Equal(4, _server.Host.Models.Count);
    }

    [Fact]
    public async Task LoadingAtRunTimeIsOffUnlessAllowed()
    {
        await using var server = await DclmServer.StartAsync(ServerFixture.Options());
        await server.Host.Loading;
        using var client = new HttpClient { BaseAddress = server.Address };
        using var response = await client.PostAsync("/v1/lora-adapters", ServerFixture.Json($$"""{"lora_name": "a", "lora_path": {{JsonSerializer.Serialize(TinyAdapters.Write(_adapters[0], "off"))}}}"""));
        Assert.Equal(403, (int)response.StatusCode);
        Assert.Contains("--allow-lora-loading", await response.Content.ReadAsStringAsync());
        Assert.Single(server.Host.Models);
    }

    private async Task<(int Status, JsonElement Body)> Post(string path, string json)
    {
        using var response = await _client.PostAsync(path, ServerFixture.Json(json));
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }
}
