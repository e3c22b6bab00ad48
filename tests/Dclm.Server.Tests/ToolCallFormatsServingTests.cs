using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dclm.Chat;
using Dclm.Chat.Tools;
using Dclm.Server.Hosting;
using Dclm.TestSupport;
using Dclm.Tokenizers;
using Microsoft.Extensions.AI;

namespace Dclm.Server.Tests;

/// <summary>
/// Every call syntax end to end: for each, a hand-set model (<see cref="TinyNeoXModels.WriteScripted"/>) carrying the real
/// chat template of a model family that writes it (from llama.cpp's models/templates) always replies with one call in that
/// syntax, as llama.cpp's tests/test-chat.cpp writes such replies, spelled in the tokens GPT-NeoX's tokenizer gives it. The call must come back as OpenAI <c>tool_calls</c> over
/// HTTP, whole and streamed, and as <see cref="FunctionCallContent"/> through <see cref="EngineChatClient"/>.
/// </summary>
[Collection("server")]
public sealed class ToolCallFormatsServingTests
{
    private const string Tools = """[{"type": "function", "function": {"name": "weather", "description": "Current weather in a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}, {"type": "function", "function": {"name": "python", "description": "Runs code", "parameters": {"type": "object", "properties": {"code": {"type": "string"}}, "required": ["code"]}}}]""";
    private const string Weather = "{\"city\": \"Paris\"}";

    private static readonly Lazy<JsonElement[]> Fixtures = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "chat-templates.json"))).RootElement.EnumerateArray().ToArray());

    private static readonly string VocabularyPath = Path.Combine(AppContext.BaseDirectory, "fixtures", "gpt-neox-20b.vocab.gguf");
    private static readonly Lazy<Tokenizer> NeoX = new(() => Tokenizer.Load(VocabularyPath));

    // None of the real templates both renders tools and names a call syntax, so the generic JSON format is served with this one.
    private const string GenericTemplate = "generic (ChatML listing the tools)";
    private const string GenericTemplateSource = "{%- if tools %}<|im_start|>system\nYou may call these functions: {{ tools | tojson }}<|im_end|>\n{% endif %}"
        + "{%- for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{%- if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

    // The R1 distills' own template never renders tools (refused with a 400, below), and llama.cpp's replacement for it
    // (llama-cpp-deepseek-r1) pipes a generator into tojson, which Jinja2 refuses; so the distill's template, listing them first.
    private const string DeepSeekTemplate = "DeepSeek R1 distill listing the tools";

    private static string Source(string template) => template == GenericTemplate ? GenericTemplateSource
        : template == DeepSeekTemplate ? "{%- if tools %}Tools: {{ tools | tojson }}\n{% endif %}" + Source("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B")
        : Fixtures.Value.First(c => c.GetProperty("template").GetString() == template).GetProperty("source").GetString()!;

    public static TheoryData<string, ToolCallSyntax, string, string, string> Formats() => new()
    {
        { "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use", ToolCallSyntax.Hermes, "<tool_call>\n{\"name\": \"weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>", "weather", Weather },
        { "meta-llama-Llama-3.3-70B-Instruct", ToolCallSyntax.JsonObject, "{\"name\": \"weather\", \"parameters\": {\"city\": \"Paris\"}}", "weather", Weather },
        { "meta-llama-Llama-3.1-8B-Instruct", ToolCallSyntax.JsonObject, "<|python_tag|>python.call(code=\"print('hey')\")", "python", "{\"code\": \"print('hey')\"}" },
        { "mistralai-Mistral-Nemo-Instruct-2407", ToolCallSyntax.JsonArray, "[TOOL_CALLS][{\"name\": \"weather\", \"arguments\": {\"city\": \"Paris\"}}]", "weather", Weather },
        { "meetkai-functionary-medium-v3.1", ToolCallSyntax.FunctionaryV31, "<function=weather>{\"city\": \"Paris\"}</function>", "weather", Weather },
        { "meetkai-functionary-medium-v3.2", ToolCallSyntax.FunctionaryV32, "weather\n{\"city\": \"Paris\"}", "weather", Weather },
        { "fireworks-ai-llama-3-firefunction-v2", ToolCallSyntax.FirefunctionV2, " functools[{\"name\": \"weather\", \"arguments\": {\"city\": \"Paris\"}}]", "weather", Weather },
        { "CohereForAI-c4ai-command-r7b-12-2024-tool_use", ToolCallSyntax.CommandR7b,
            "<|START_ACTION|>[\n    {\"tool_call_id\": \"0\", \"tool_name\": \"weather\", \"parameters\": {\"city\": \"Paris\"}}\n]<|END_ACTION|>", "weather", Weather },
        // The R1 distill's template opens <think>, so the reply first closes it.
        { DeepSeekTemplate, ToolCallSyntax.DeepSeekR1,
            "Checking.</think>\n\n<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>weather\n```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>", "weather", Weather },
        { GenericTemplate, ToolCallSyntax.GenericJson, "{\"tool_calls\": [{\"name\": \"weather\", \"arguments\": {\"city\": \"Paris\"}}]}", "weather", Weather },
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task AScriptedCallInEachSyntaxComesBackAsToolCalls(string template, ToolCallSyntax syntax, string reply, string name, string arguments)
    {
        int[] script = NeoX.Value.Encode(reply);
        Assert.Equal(reply, NeoX.Value.Decode(script));
        string directory = Path.Combine(Path.GetTempPath(), $"dclm-tool-formats-{Environment.ProcessId}-{syntax}");
        Directory.CreateDirectory(directory);
        try
        {
            string model = TinyNeoXModels.WriteScripted(directory, contextLength: 2048, VocabularyPath, Source(template), script);
            await using var server = await DclmServer.StartAsync(ServerFixture.Options() with
            {
                ModelPath = model,
                Engine = ServerFixture.Options().Engine with { ContextLength = 2048 },
            });
            await server.Host.Loading;
            Assert.Equal(syntax, server.Host.TemplateFor([new("weather", null, null)]).ToolFormat!.Syntax);
            using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(2) };
            string request = $$"""{"messages": [{"role": "user", "content": "What is the weather in Paris?"}], "max_tokens": {{script.Length + 8}}, "temperature": 0, "tools": {{Tools}}}""";

            // Whole.
            using var response = await client.PostAsync("/v1/chat/completions", ServerFixture.Json(request));
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.True(response.IsSuccessStatusCode, body.ToString());
            var choice = body.GetProperty("choices")[0];
            Assert.True(choice.GetProperty("finish_reason").GetString() == "tool_calls", body.ToString());
            var call = Assert.Single(choice.GetProperty("message").GetProperty("tool_calls").EnumerateArray());
            Assert.Equal(name, call.GetProperty("function").GetProperty("name").GetString());
            AssertSameJson(arguments, call.GetProperty("function").GetProperty("arguments").GetString()!);
            Assert.True(!choice.GetProperty("message").TryGetProperty("content", out var content) || string.IsNullOrWhiteSpace(content.GetString()), body.ToString());

            // Streamed: the deltas reassembled by index.
            var events = await ServerFixture.StreamAsync(client, "/v1/chat/completions", request.Replace("\"temperature\": 0", "\"temperature\": 0, \"stream\": true"));
            Assert.Equal("[DONE]", events[^1]);
            var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0]).ToList();
            var names = new SortedDictionary<int, StringBuilder>();
            var argumentTexts = new SortedDictionary<int, StringBuilder>();
            var text = new StringBuilder();
            foreach (var chunk in chunks)
            {
                var delta = chunk.GetProperty("delta");
                if (delta.TryGetProperty("content", out var piece) && piece.ValueKind == JsonValueKind.String) text.Append(piece.GetString());
                if (!delta.TryGetProperty("tool_calls", out var parts)) continue;
                foreach (var part in parts.EnumerateArray())
                {
                    int index = part.GetProperty("index").GetInt32();
                    if (!names.ContainsKey(index)) (names[index], argumentTexts[index]) = (new(), new());
                    if (part.TryGetProperty("function", out var function))
                    {
                        if (function.TryGetProperty("name", out var n)) names[index].Append(n.GetString());
                        if (function.TryGetProperty("arguments", out var a)) argumentTexts[index].Append(a.GetString());
                    }
                }
            }
            Assert.True(string.IsNullOrWhiteSpace(text.ToString()), text.ToString()); // nothing of the call leaks as text
            Assert.Equal([0], names.Keys);
            Assert.Equal(name, names[0].ToString());
            AssertSameJson(arguments, argumentTexts[0].ToString());
            Assert.Equal("tool_calls", chunks[^1].GetProperty("finish_reason").GetString());

            // In process.
            var tools = new ChatOptions
            {
                Temperature = 0, MaxOutputTokens = script.Length + 8,
                Tools = [AIFunctionFactory.Create((string city) => "21 °C", "weather", "Current weather in a city"), AIFunctionFactory.Create((string code) => "hey", "python", "Runs code")],
            };
            var direct = await new EngineChatClient(server.Host).GetResponseAsync([new(ChatRole.User, "What is the weather in Paris?")], tools);
            Assert.Equal(ChatFinishReason.ToolCalls, direct.FinishReason);
            var functionCall = Assert.Single(direct.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
            Assert.Equal(name, functionCall.Name);
            AssertSameJson(arguments, JsonSerializer.Serialize(functionCall.Arguments));
        }
        finally
        {
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    [Theory]
    [InlineData("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B")]
    [InlineData("microsoft-Phi-3.5-mini-instruct")]
    [InlineData("google-gemma-2-2b-it")]
    public async Task ToolsForATemplateThatNeverRendersThemAreRefusedNotDropped(string template)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"dclm-tool-formats-{Environment.ProcessId}-hidden-{template}");
        Directory.CreateDirectory(directory);
        try
        {
            string model = TinyNeoXModels.WriteScripted(directory, contextLength: 512, VocabularyPath, Source(template), NeoX.Value.Encode("Paris."));
            await using var server = await DclmServer.StartAsync(ServerFixture.Options() with { ModelPath = model });
            await server.Host.Loading;
            using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(2) };
            string request = $$"""{"messages": [{"role": "user", "content": "What is the weather in Paris?"}], "max_tokens": 8, "temperature": 0, "tools": {{Tools}}}""";

            using var refused = await client.PostAsync("/v1/chat/completions", ServerFixture.Json(request));
            var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("never renders `tools`", error.GetProperty("message").GetString());
            Assert.Contains(server.Host.ModelId, error.GetProperty("message").GetString());
            var inProcess = new ChatOptions { Tools = [AIFunctionFactory.Create((string city) => "21 °C", "weather", "Current weather in a city")] };
            await Assert.ThrowsAsync<NotSupportedException>(() => new EngineChatClient(server.Host).GetResponseAsync([new(ChatRole.User, "Hi")], inProcess));

            // Without tools the same model answers; /apply-template still shows what Jinja2 renders (the tools left out).
            using var answered = await client.PostAsync("/v1/chat/completions", ServerFixture.Json(request.Replace($", \"tools\": {Tools}", "")));
            Assert.True(answered.IsSuccessStatusCode, await answered.Content.ReadAsStringAsync());
            using var rendered = await client.PostAsync("/apply-template", ServerFixture.Json(request));
            Assert.True(rendered.IsSuccessStatusCode, await rendered.Content.ReadAsStringAsync());
            Assert.DoesNotContain("weather", JsonDocument.Parse(await rendered.Content.ReadAsStringAsync()).RootElement.GetProperty("prompt").GetString()!.Replace("What is the weather in Paris?", ""));
        }
        finally
        {
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static void AssertSameJson(string expected, string actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"expected {expected}, got {actual}");
}
