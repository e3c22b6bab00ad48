using System.Text.Json;
using Dclm.Server.Hosting;
using Dclm.Tokenizers;

namespace Dclm.Server.Tests;

/// <summary>
/// Fill-in-the-middle end to end on a small random-weight Qwen2 GGUF with the real Qwen tokenizer: the prompt is laid out
/// as llama-server's <c>format_prompt_infill</c> lays it out (infill-prompts.json, written from its logic), /infill answers
/// whole and streamed in llama-server's shape, and /v1/completions takes OpenAI's <c>suffix</c>.
/// </summary>
[Collection("server")]
public sealed class InfillServingTests : IAsyncLifetime
{
    private static readonly Lazy<string> Model = new(() =>
    {
        string directory = Path.Combine(Path.GetTempPath(), "dclm-infill-tests-" + Environment.ProcessId);
        Directory.CreateDirectory(directory);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        string path = Path.Combine(directory, "random-qwen2.gguf");
        QwenFiles.WriteRandomModel(path);
        return path;
    });

    private DclmServer _server = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await DclmServer.StartAsync(ServerFixture.Options() with
        {
            ModelPath = Model.Value, Engine = ServerFixture.Options().Engine with { ContextLength = 1024 },
        });
        await _server.Host.Loading;
        _client = new HttpClient { BaseAddress = _server.Address, Timeout = TimeSpan.FromMinutes(2) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    private Tokenizer Tokenizer => _server.Host.Tokenizer!;

    private async Task<(int Status, JsonElement Body)> PostAsync(string path, string json)
    {
        using var response = await _client.PostAsync(path, ServerFixture.Json(json));
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public void TheQwenTokenizerDeclaresItsFimTokensByTheirSpelling()
    {
        var fim = Tokenizer.FillInMiddle;
        Assert.Equal("<|fim_prefix|> <|fim_suffix|> <|fim_middle|> <|fim_pad|> <|repo_name|> <|file_sep|>",
            string.Join(' ', new[] { fim.Prefix, fim.Suffix, fim.Middle, fim.Pad, fim.Repository, fim.FileSeparator }.Select(id => Tokenizer.TokenText(id!.Value))));
    }

    [Fact]
    public void EveryFixtureCaseIsAssembledAsLlamaServerAssemblesIt()
    {
        var cases = InfillFixture.Load();
        Assert.Equal(5, cases.Count);
        foreach (var fixture in cases)
        {
            int[] expected = fixture.ExpectedIds(Tokenizer);
            int[] actual = InfillPrompt.Build(Tokenizer, fixture.Input(Tokenizer), fixture.Budget);
            Assert.True(expected.SequenceEqual(actual), $"{fixture.Name}:\nexpected {string.Join(' ', expected)}\nactual   {string.Join(' ', actual)}");
            Assert.Equal(Tokenizer.Decode(expected), Tokenizer.Decode(actual));
        }
        // The first case spelled out, byte for byte.
        Assert.Equal("<|repo_name|>myproject\n<|file_sep|>utils.py\ndef sub(a, b):\n    return a - b\n<|file_sep|>tmp\nX = 1\n<|file_sep|>filename\n"
            + "<|fim_prefix|>def add(a, b):\n    <|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>", Tokenizer.Decode(cases[0].ExpectedIds(Tokenizer)));
    }

    private static string InfillBody(InfillFixture fixture, string more = "") =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["input_prefix"] = fixture.Prefix, ["input_suffix"] = fixture.Suffix, ["prompt"] = fixture.Prompt,
            ["input_extra"] = fixture.ExtraFiles.Select(f => new Dictionary<string, string> { ["filename"] = f.FileName, ["text"] = f.Text }).ToArray(),
        })[..^1] + ", \"n_predict\": 8, \"temperature\": 0, \"seed\": 3" + more + "}";

    [Fact]
    public async Task InfillAnswersWithTheAssembledPromptAndStreamsTheSameText()
    {
        var fixture = InfillFixture.Load()[0];
        int[] expected = fixture.ExpectedIds(Tokenizer);
        var (status, body) = await PostAsync("/infill", InfillBody(fixture));
        Assert.True(status == 200, body.ToString());
        Assert.Equal(Tokenizer.Decode(expected), body.GetProperty("prompt").GetString());
        Assert.Equal(expected.Length, body.GetProperty("tokens_evaluated").GetInt32());
        Assert.True(body.GetProperty("stop").GetBoolean());
        int predicted = body.GetProperty("tokens_predicted").GetInt32();
        Assert.InRange(predicted, 1, 8);
        Assert.Equal(predicted == 8 ? "limit" : "eos", body.GetProperty("stop_type").GetString());
        string whole = body.GetProperty("content").GetString()!;

        var events = await ServerFixture.StreamAsync(_client, "/infill", InfillBody(fixture, ", \"stream\": true"));
        Assert.DoesNotContain("[DONE]", events);
        var chunks = events.Select(e => JsonDocument.Parse(e).RootElement.Clone()).ToList();
        Assert.All(chunks.SkipLast(1), c => Assert.False(c.GetProperty("stop").GetBoolean()));
        Assert.True(chunks[^1].GetProperty("stop").GetBoolean());
        Assert.Equal(Tokenizer.Decode(expected), chunks[^1].GetProperty("prompt").GetString());
        Assert.Equal(whole, string.Concat(chunks.Select(c => c.GetProperty("content").GetString())));
        Assert.True(chunks.Count >= 2, "one event per token, then the closing one");
    }

    [Fact]
    public async Task CompletionsWithASuffixRunTheSamePromptAsInfill()
    {
        const string prefix = "def add(a, b):\n    ", suffix = "\n\nprint(add(1, 2))\n";
        var t = Tokenizer;
        var fim = t.FillInMiddle;
        int[] expected = [fim.Repository!.Value, .. t.Encode("myproject\n"), fim.FileSeparator!.Value, .. t.Encode("filename\n"),
            fim.Prefix!.Value, .. t.Encode(prefix), fim.Suffix!.Value, .. t.Encode(suffix), fim.Middle!.Value];
        string request = JsonSerializer.Serialize(new { prompt = prefix, suffix, max_tokens = 6, temperature = 0 });
        var (status, body) = await PostAsync("/v1/completions", request);
        Assert.True(status == 200, body.ToString());
        Assert.Equal(expected.Length, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        var (infillStatus, infill) = await PostAsync("/infill", JsonSerializer.Serialize(new { input_prefix = prefix, input_suffix = suffix, n_predict = 6, temperature = 0 }));
        Assert.Equal(200, infillStatus);
        Assert.Equal(t.Decode(expected), infill.GetProperty("prompt").GetString());
        Assert.Equal(infill.GetProperty("content").GetString(), body.GetProperty("choices")[0].GetProperty("text").GetString());
    }

    [Theory]
    [InlineData("""{"input_suffix": "x"}""", "input_prefix", "\"input_prefix\" is required")]
    [InlineData("""{"input_prefix": "x", "input_extra": {"text": "y"}}""", "input_extra", "must be an array")]
    [InlineData("""{"input_prefix": "x", "input_extra": [{"filename": "a.py"}]}""", "input_extra", "\"text\" field")]
    [InlineData("""{"input_prefix": "x", "input_extra": [{"text": "y", "filename": 3}]}""", "input_extra", "\"filename\" field must be a string")]
    [InlineData("""{"input_prefix": [1, -4]}""", "input_prefix", "token ids in [0, ")]
    [InlineData("""{"input_prefix": "x", "prompt": 5}""", "prompt", "\"prompt\" must be a string")]
    [InlineData("""{"prompt": "x", "suffix": "y", "echo": true}""", "echo", "echo cannot be combined with suffix")]
    public async Task BadInfillRequestsAreRefusedByField(string json, string field, string message)
    {
        string path = json.Contains("\"suffix\"") ? "/v1/completions" : "/infill";
        var (status, body) = await PostAsync(path, json);
        Assert.Equal(400, status);
        Assert.Equal(field, body.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains(message, body.GetProperty("error").GetProperty("message").GetString());
    }
}
