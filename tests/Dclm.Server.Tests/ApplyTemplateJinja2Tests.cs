using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dclm.Server.Hosting;
using Dclm.Tokenizers;

namespace Dclm.Server.Tests;

/// <summary>
/// Issue 26's acceptance over HTTP: each of the 17 chat templates llama.cpp keeps (models/templates) is served as a model's
/// own template, and <c>POST /apply-template</c> must return what Jinja2 renders for the same conversation, byte for byte,
/// with and without tools, or refuse with a 4xx JSON error where Jinja2 raises. The expectations are Jinja2's own output
/// recorded by scripts/chat-template-fixtures.py (transformers' settings), the same fixture the library tests read.
/// </summary>
[Collection("server")]
public sealed class ApplyTemplateJinja2Tests(ApplyTemplateJinja2Tests.Servers servers) : IClassFixture<ApplyTemplateJinja2Tests.Servers>
{
    private static readonly string[] Templates =
    [
        "CohereForAI-c4ai-command-r-plus-tool_use", "CohereForAI-c4ai-command-r7b-12-2024-tool_use", "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use",
        "NousResearch-Hermes-3-Llama-3.1-8B-tool_use", "Qwen-Qwen2.5-7B-Instruct", "deepseek-ai-DeepSeek-R1-Distill-Llama-8B", "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B",
        "fireworks-ai-llama-3-firefunction-v2", "google-gemma-2-2b-it", "llama-cpp-deepseek-r1", "meetkai-functionary-medium-v3.1", "meetkai-functionary-medium-v3.2",
        "meta-llama-Llama-3.1-8B-Instruct", "meta-llama-Llama-3.2-3B-Instruct", "meta-llama-Llama-3.3-70B-Instruct", "microsoft-Phi-3.5-mini-instruct",
        "mistralai-Mistral-Nemo-Instruct-2407",
    ];

    private static readonly Lazy<JsonElement[]> Fixtures = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "chat-templates.json"))).RootElement.EnumerateArray().ToArray());

    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (string template in Templates) { data.Add(template, false); data.Add(template, true); }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task ApplyTemplateRendersWhatJinja2Renders(string template, bool withTools)
    {
        // Without tools: a conversation with and one without a system message; with tools: one offering a function, one
        // carrying tool calls and results (non-ASCII text included). /apply-template always opens the assistant's reply.
        var cases = Fixtures.Value.Where(c => c.GetProperty("template").GetString() == template && c.GetProperty("add_generation_prompt").GetBoolean()
            && c.TryGetProperty("tools", out _) == withTools).ToList();
        Assert.Equal(2, cases.Count);
        var (client, bos, eos) = await servers.For(template, cases[0].GetProperty("source").GetString()!);
        foreach (var c in cases)
        {
            // Jinja2 was given "<s>" and "</s>"; the served model's tokenizer names its own (GPT-NeoX's end of text). None of
            // these templates nor conversations holds either text literally, so every one in the expectation is a bos/eos_token.
            Assert.DoesNotContain("<s>", c.GetProperty("source").GetString()!);
            Assert.DoesNotContain("</s>", c.GetProperty("source").GetString()!);
            using var response = await client.PostAsync("/apply-template", ServerFixture.Json(Request(c).ToJsonString()));
            string text = await response.Content.ReadAsStringAsync();
            string conversation = c.GetProperty("conversation").GetString()!;
            if (c.TryGetProperty("error", out var error))
            {
                Assert.True((int)response.StatusCode is >= 400 and < 500, $"{conversation}: Jinja2 raises ({error.GetString()}) but the server answered {(int)response.StatusCode}: {text}");
                string message = JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("message").GetString()!;
                // A template's own raise_exception is worded by the template; Jinja2's other errors are worded Python's way.
                if (c.GetProperty("raised").GetBoolean()) Assert.Contains(error.GetString()!, message);
                continue;
            }
            Assert.True(response.IsSuccessStatusCode, $"{conversation}: {text}");
            string expected = c.GetProperty("expected").GetString()!.Replace("</s>", eos).Replace("<s>", bos);
            Assert.Equal(expected, JsonDocument.Parse(text).RootElement.GetProperty("prompt").GetString());
        }
    }

    /// <summary>The fixture's conversation as an OpenAI request: tool call arguments always travel as JSON text.</summary>
    private static JsonObject Request(JsonElement fixture)
    {
        var messages = JsonNode.Parse(fixture.GetProperty("messages").GetRawText())!.AsArray();
        foreach (var message in messages)
            if (message!["tool_calls"] is JsonArray calls)
                foreach (var call in calls)
                    if (call!["function"]!["arguments"] is JsonObject arguments) call["function"]!["arguments"] = arguments.ToJsonString();
        var request = new JsonObject { ["messages"] = messages };
        if (fixture.TryGetProperty("tools", out var tools)) request["tools"] = JsonNode.Parse(tools.GetRawText());
        return request;
    }

    /// <summary>One server per template, started when its first case runs and shared by its two; all stopped at the end.</summary>
    public sealed class Servers : IAsyncLifetime
    {
        private static readonly string VocabularyPath = Path.Combine(AppContext.BaseDirectory, "fixtures", "gpt-neox-20b.vocab.gguf");
        private readonly string _directory = Path.Combine(Path.GetTempPath(), $"dclm-apply-template-{Environment.ProcessId}");
        private readonly ConcurrentDictionary<string, Lazy<Task<(DclmServer Server, HttpClient Client)>>> _servers = new();

        public async Task<(HttpClient Client, string Bos, string Eos)> For(string template, string source)
        {
            var (server, client) = await _servers.GetOrAdd(template, name => new(() => StartAsync(name, source))).Value;
            var tokenizer = server.Host.Tokenizer!;
            return (client, tokenizer.TokenText(tokenizer.BeginningOfSequenceId!.Value), tokenizer.TokenText(tokenizer.EndOfSequenceId!.Value));
        }

        private async Task<(DclmServer, HttpClient)> StartAsync(string template, string source)
        {
            string directory = Path.Combine(_directory, template);
            Directory.CreateDirectory(directory);
            var tokenizer = Tokenizer.Load(VocabularyPath);
            string model = TinyNeoXModels.WriteScripted(directory, contextLength: 64, VocabularyPath, source, tokenizer.Encode("Hi."));
            // The fixtures were rendered at this moment (strftime_now, Firefunction's datetime).
            var server = await DclmServer.StartAsync(ServerFixture.Options() with
            {
                ModelPath = model, Clock = new FixedClock(new DateTimeOffset(2026, 3, 7, 14, 5, 9, TimeSpan.Zero)),
                Engine = ServerFixture.Options().Engine with { ContextLength = 64 },
            });
            await server.Host.Loading;
            return (server, new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(2) });
        }

        public Task InitializeAsync() => Task.CompletedTask;

        public async Task DisposeAsync()
        {
            foreach (var entry in _servers.Values)
            {
                if (!entry.IsValueCreated) continue;
                try
                {
                    var (server, client) = await entry.Value;
                    client.Dispose();
                    await server.DisposeAsync();
                }
                catch (Exception) { } // a server that failed to start has failed its test already
            }
            try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>A clock stopped at one UTC moment, in UTC.</summary>
    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    }
}
