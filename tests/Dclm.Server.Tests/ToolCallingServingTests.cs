using System.ClientModel;
using System.Text.Json.Nodes;
using System.Text.Json;
using Dclm.Chat;
using Dclm.Models;
using Dclm.Server.Hosting;
using Dclm.TestSupport;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;

namespace Dclm.Server.Tests;

/// <summary>
/// Function calling end to end: a model with a ChatML chat template and Qwen3's as its "tool_use" template, whose weights
/// are set by hand so that it always answers "Checking." and a Hermes tool call, served over HTTP and read by the OpenAI SDK and by
/// Microsoft.Extensions.AI's function-invoking client.
/// </summary>
[Collection("server")]
public sealed class ToolCallingServingTests : IAsyncLifetime
{
    // GPT-NeoX ids of: Checking.<tool_call>{"name":"weather","arguments":{"city": "Paris"}}  (all distinct, as a scripted model needs)
    private static readonly int[] Script = [9063, 272, 17778, 19210, 64, 4065, 31, 9819, 1590, 6302, 32607, 6624, 31126, 24285, 21280, 1381, 346, 36062, 3, 599];
    private const string ScriptText = "Checking.<tool_call>{\"name\":\"weather\",\"arguments\":{\"city\": \"Paris\"}}";
    private const string Tools = """[{"type": "function", "function": {"name": "weather", "description": "Current weather in a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]""";

    private static readonly Lazy<JsonElement[]> Fixtures = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "chat-templates.json"))).RootElement.EnumerateArray().ToArray());

    private static readonly Lazy<string> Model = new(() =>
    {
        string directory = Path.Combine(Path.GetTempPath(), "dclm-tool-calling-tests-" + Environment.ProcessId);
        Directory.CreateDirectory(directory);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        string Source(string name) => Fixtures.Value.First(c => c.GetProperty("template").GetString() == name).GetProperty("source").GetString()!;
        // The default template takes no tools; the named "tool_use" one (Qwen3's) is used when a request offers them, as transformers does.
        return TinyNeoXModels.WriteScripted(directory, contextLength: 1024,
            Path.Combine(AppContext.BaseDirectory, "fixtures", "gpt-neox-20b.vocab.gguf"), Source("openhermes-chatml"), Script, toolUseTemplate: Source("qwen3"));
    });

    private DclmServer _server = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await DclmServer.StartAsync(ServerFixture.Options() with
        {
            ModelPath = Model.Value,
            Engine = ServerFixture.Options().Engine with { ContextLength = 1024 },
        });
        await _server.Host.Loading;
        _client = new HttpClient { BaseAddress = _server.Address, Timeout = TimeSpan.FromMinutes(2) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<(int Status, JsonElement Body)> PostAsync(string path, string json)
    {
        using var response = await _client.PostAsync(path, ServerFixture.Json(json));
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static string Request(bool tools, bool stream = false) =>
        $$"""{"messages": [{"role": "user", "content": "What is the weather in Paris?"}], "max_tokens": 40, "temperature": 0{{(tools ? ", \"tools\": " + Tools : "")}}{{(stream ? ", \"stream\": true" : "")}}}""";

    [Fact]
    public async Task TheScriptedModelSaysItsScriptThroughTheRealEngine()
    {
        // ChatML never shows tools; calls would be read in llama.cpp's generic JSON, but the "tool_use" template serves them.
        Assert.False(_server.Host.Template.ToolFormat!.ShowsTools);
        Assert.Equal(Chat.Tools.ToolCallSyntax.Hermes, _server.Host.TemplateFor([new("weather", null, null)]).ToolFormat!.Syntax);
        Assert.Equal(ScriptText, _server.Host.Tokenizer!.Decode(Script));
        // Without tools the reply is plain text, the would-be call included.
        var (status, body) = await PostAsync("/v1/chat/completions", Request(tools: false));
        Assert.Equal(200, status);
        var choice = body.GetProperty("choices")[0];
        Assert.Equal(ScriptText, choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task WithToolsTheCallComesBackAsToolCalls()
    {
        var (status, body) = await PostAsync("/v1/chat/completions", Request(tools: true));
        Assert.Equal(200, status);
        var choice = body.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var message = choice.GetProperty("message");
        Assert.Equal("Checking.", message.GetProperty("content").GetString());
        var call = Assert.Single(message.GetProperty("tool_calls").EnumerateArray());
        Assert.Matches("^call_[A-Za-z0-9]{24}$", call.GetProperty("id").GetString());
        Assert.Equal("function", call.GetProperty("type").GetString());
        Assert.Equal("weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("{\"city\": \"Paris\"}", call.GetProperty("function").GetProperty("arguments").GetString());
        Assert.False(call.TryGetProperty("index", out _));
        var (_, single) = await PostAsync("/v1/chat/completions", Request(tools: true).Replace("\"temperature\": 0", "\"temperature\": 0, \"parallel_tool_calls\": false"));
        Assert.Single(single.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls").EnumerateArray());
        string metrics = await _client.GetStringAsync("/metrics");
        Assert.Contains("dclm_tool_calls_total 2", metrics);
        Assert.Contains("dclm_tool_call_parse_failures_total 0", metrics);
        // The tools were rendered into the prompt: the same request through /tokenize counts the same tokens.
        var (_, tokenized) = await PostAsync("/tokenize", $$"""{"messages": [{"role": "user", "content": "What is the weather in Paris?"}], "tools": {{Tools}}}""");
        Assert.Equal(tokenized.GetProperty("count").GetInt32(), body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task StreamedCallsArriveAfterTheTextWithTheirIndex()
    {
        var events = await ServerFixture.StreamAsync(_client, "/v1/chat/completions", Request(tools: true, stream: true));
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0]).ToList();
        string content = string.Concat(chunks.Select(c => c.GetProperty("delta").TryGetProperty("content", out var t) ? t.GetString() : ""));
        Assert.Equal("Checking.", content); // nothing of the call leaks as text
        var withCalls = Assert.Single(chunks, c => c.GetProperty("delta").TryGetProperty("tool_calls", out _));
        var call = Assert.Single(withCalls.GetProperty("delta").GetProperty("tool_calls").EnumerateArray());
        Assert.Equal(0, call.GetProperty("index").GetInt32());
        Assert.Equal("weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("tool_calls", chunks[^1].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task TheOpenAiSdkReadsCallsAndSendsTheirResultsBack()
    {
        var client = new ChatClient(_server.Host.ModelId, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(_server.Address, "v1") });
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 40 };
        options.Tools.Add(ChatTool.CreateFunctionTool("weather", "Current weather in a city",
            BinaryData.FromString("""{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}""")));
        List<OpenAI.Chat.ChatMessage> messages = [new UserChatMessage("What is the weather in Paris?")];
        ChatCompletion completion = (await client.CompleteChatAsync(messages, options)).Value;
        Assert.Equal(OpenAI.Chat.ChatFinishReason.ToolCalls, completion.FinishReason);
        var call = Assert.Single(completion.ToolCalls);
        Assert.Equal("weather", call.FunctionName);
        Assert.Equal("Paris", JsonDocument.Parse(call.FunctionArguments).RootElement.GetProperty("city").GetString());

        // The next turn carries the call and its result; the template renders both (a 200, not a refusal).
        messages.Add(new AssistantChatMessage(completion));
        messages.Add(new ToolChatMessage(call.Id, "{\"temperature\": 21}"));
        ChatCompletion next = (await client.CompleteChatAsync(messages, options)).Value;
        Assert.Equal(OpenAI.Chat.ChatFinishReason.ToolCalls, next.FinishReason); // the script again

        var streamedName = new System.Text.StringBuilder();
        var streamedArguments = new System.Text.StringBuilder();
        OpenAI.Chat.ChatFinishReason? finish = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("What is the weather in Paris?")], options))
        {
            foreach (var part in update.ToolCallUpdates)
            {
                streamedName.Append(part.FunctionName);
                streamedArguments.Append(part.FunctionArgumentsUpdate?.ToString());
            }
            finish ??= update.FinishReason;
        }
        Assert.Equal("weather", streamedName.ToString());
        Assert.Equal("{\"city\": \"Paris\"}", streamedArguments.ToString());
        Assert.Equal(OpenAI.Chat.ChatFinishReason.ToolCalls, finish);
    }

    [Fact]
    public async Task TheInProcessClientRunsFunctionsThroughFunctionInvocation()
    {
        var cities = new List<string>();
        var weather = AIFunctionFactory.Create((string city) => { lock (cities) cities.Add(city); return "21 °C and clear"; }, "weather", "Current weather in a city");
        using IChatClient chat = new ChatClientBuilder(new EngineChatClient(_server.Host)).UseFunctionInvocation(configure: f => f.MaximumIterationsPerRequest = 2).Build();
        var options = new ChatOptions { Tools = [weather], Temperature = 0, MaxOutputTokens = 40 };
        var response = await chat.GetResponseAsync("What is the weather in Paris?", options);
        Assert.NotEmpty(cities);
        Assert.All(cities, c => Assert.Equal("Paris", c));
        // The function's result went back to the model as a tool message, rendered by the template.
        Assert.Contains(response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>(), r => r.Result?.ToString() == "21 °C and clear");

        var raw = new EngineChatClient(_server.Host);
        var direct = await raw.GetResponseAsync([new(ChatRole.User, "What is the weather in Paris?")], options);
        Assert.Equal(Microsoft.Extensions.AI.ChatFinishReason.ToolCalls, direct.FinishReason);
        var call = Assert.Single(direct.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("Paris", call.Arguments!["city"]!.ToString());
        Assert.Equal("Checking.", direct.Text);
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in raw.GetStreamingResponseAsync([new(ChatRole.User, "What is the weather in Paris?")], options)) updates.Add(update);
        Assert.Equal("Checking.", string.Concat(updates.Select(u => u.Text)));
        Assert.Single(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
        await Assert.ThrowsAsync<ArgumentException>(() => raw.GetResponseAsync("Weather?", new ChatOptions { Tools = [weather], ToolMode = ChatToolMode.RequireSpecific("time") }));
    }

    [Theory]
    [InlineData("\"required\"")]
    [InlineData("""{"type": "function", "function": {"name": "weather"}}""")]
    public async Task ARequiredCallIsForcedWhileSampling(string choice)
    {
        // Left alone the model says "Checking." first; forced, the reply must be a call in the template's
        // (Hermes) syntax whose arguments follow the function's schema (city is required). Biases on '"' and
        // "}" (the quote's higher, as a string may hold "}") end strings and objects as soon as the grammar lets
        // them, so the forced call ends in a few tokens whatever the hand-set model prefers inside an object.
        int quote = _server.Host.Tokenizer!.Encode("\"").Single(), close = _server.Host.Tokenizer.Encode("}").Single();
        string request = $$$"""{"messages": [{"role": "user", "content": "What is the weather in Paris?"}], "max_tokens": 120, "temperature": 0, "tools": {{{Tools}}}, "tool_choice": {{{choice}}}, "logit_bias": {"{{{quote}}}": 100, "{{{close}}}": 90}}""";
        var (status, body) = await PostAsync("/v1/chat/completions", request);
        Assert.Equal(200, status);
        var choiceOut = body.GetProperty("choices")[0];
        Assert.True(choiceOut.GetProperty("finish_reason").GetString() == "tool_calls", body.ToString());
        var message = choiceOut.GetProperty("message");
        Assert.False(message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String && content.GetString()!.Length > 0);
        var call = Assert.Single(message.GetProperty("tool_calls").EnumerateArray());
        Assert.Equal("weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("{\"city\": \"\"}", call.GetProperty("function").GetProperty("arguments").GetString());
    }

    [Fact]
    public async Task ApplyTemplateRendersToolsAndToolMessagesAsJinja2Does()
    {
        var fixture = Fixtures.Value.First(c => c.GetProperty("template").GetString() == "qwen3" && c.GetProperty("conversation").GetString() == "tool-use"
            && c.GetProperty("add_generation_prompt").GetBoolean());
        // The fixture holds arguments as the template is given them (JSON text for Qwen3, which renders them as they are, else a
        // mapping); the API always carries them as JSON text.
        var messages = JsonNode.Parse(fixture.GetProperty("messages").GetRawText())!.AsArray();
        foreach (var message in messages)
            if (message!["tool_calls"] is JsonArray calls)
                foreach (var call in calls)
                    if (call!["function"]!["arguments"] is JsonObject arguments) call["function"]!["arguments"] = arguments.ToJsonString();
        var request = new JsonObject { ["messages"] = messages, ["tools"] = JsonNode.Parse(fixture.GetProperty("tools").GetRawText()) };
        var (status, body) = await PostAsync("/apply-template", request.ToJsonString());
        Assert.True(status == 200, body.ToString());
        Assert.Equal(fixture.GetProperty("expected").GetString(), body.GetProperty("prompt").GetString());
    }

    [Theory]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}], "tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "time"}}}""", "tool_choice")]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}], "tools": TOOLS, "response_format": {"type": "json_object"}}""", "response_format")]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", "function": {"name": "no spaces please"}}]}""", "tools")]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}, {"role": "tool", "content": "21"}]}""", "messages")]
    public async Task BadFunctionCallingRequestsAreBadRequests(string json, string field)
    {
        var (status, body) = await PostAsync("/v1/chat/completions", json.Replace("TOOLS", Tools));
        Assert.Equal(400, status);
        Assert.Equal(field, body.GetProperty("error").GetProperty("param").GetString());
    }
}
