using Dclm.Server.Api;

namespace Dclm.Server.Tests;

public class RequestValidatorTests
{
    [Fact]
    public void FrequencyAndPresencePenaltiesReachTheSampler()
    {
        var options = RequestValidator.Sampling(new CompletionRequestDto { FrequencyPenalty = 0.5f, PresencePenalty = -0.25f, Seed = 1 }, maxTokens: 8);
        Assert.Equal(0.5f, options.FrequencyPenalty);
        Assert.Equal(-0.25f, options.PresencePenalty);
        var defaults = RequestValidator.Sampling(new CompletionRequestDto { Seed = 1 }, maxTokens: 8);
        Assert.Equal(0f, defaults.FrequencyPenalty);
        Assert.Equal(0f, defaults.PresencePenalty);
    }

    [Theory]
    [InlineData(2.5f, null, "frequency_penalty")]
    [InlineData(null, -3f, "presence_penalty")]
    public void OutOfRangePenaltiesNameTheirField(float? frequency, float? presence, string field)
    {
        var error = Assert.Throws<ApiException>(() =>
            RequestValidator.Sampling(new CompletionRequestDto { FrequencyPenalty = frequency, PresencePenalty = presence }, maxTokens: 8));
        Assert.Equal(400, error.Status);
        Assert.Equal(field, error.Param);
    }

    private static ChatRequestDto Chat(string json) =>
        System.Text.Json.JsonSerializer.Deserialize(json, ApiJsonContext.Default.ChatRequestDto)!;

    [Theory]
    [InlineData("""{"tools": {"f": 1}}""", "tools")]
    [InlineData("""{"tool_choice": "required"}""", "tool_choice")] // no tools to call
    [InlineData("""{"tools": [], "tool_choice": {"type": "function", "function": {"name": "f"}}}""", "tool_choice")]
    [InlineData("""{"tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": {"type": "function", "function": {"name": "no such name"}}}""", "tool_choice")]
    [InlineData("""{"tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": {"type": "function"}}""", "tool_choice")]
    [InlineData("""{"tool_choice": "sometimes"}""", "tool_choice")]
    [InlineData("""{"tools": [{"type": "retrieval"}]}""", "tools")]
    [InlineData("""{"tools": [{"type": "function"}]}""", "tools")]
    [InlineData("""{"tools": [{"type": "function", "function": {"name": "two words"}}]}""", "tools")]
    [InlineData("""{"tools": [{"type": "function", "function": {"name": ""}}]}""", "tools")]
    [InlineData("""{"tools": [{"type": "function", "function": {"name": "f"}}, {"type": "function", "function": {"name": "f"}}]}""", "tools")]
    [InlineData("""{"tools": [{"type": "function", "function": {"name": "f", "parameters": "none"}}]}""", "tools")]
    [InlineData("""{"tools": [{"type": "function", "function": {"name": "f", "description": 7}}]}""", "tools")]
    public void BadToolsAreRefusedByName(string json, string field)
    {
        var dto = Chat(json);
        var error = Assert.Throws<ApiException>(() => ToolValidator.Read(dto.Tools, dto.ToolChoice));
        Assert.Equal(400, error.Status);
        Assert.Equal(field, error.Param);
    }

    [Fact]
    public void RequiredOrNamedChoicesForceACallOfOfferedFunctions()
    {
        const string tools = """[{"type": "function", "function": {"name": "f"}}, {"type": "function", "function": {"name": "g"}}]""";
        IReadOnlyList<string>? Forced(string choice)
        {
            var dto = Chat($$"""{"tools": {{tools}}, "tool_choice": {{choice}}}""");
            return ToolValidator.Read(dto.Tools, dto.ToolChoice).Forced?.Select(t => t.Name).ToList();
        }
        Assert.Equal(["f", "g"], Forced("\"required\""));
        Assert.Equal(["g"], Forced("""{"type": "function", "function": {"name": "g"}}"""));
        Assert.Null(Forced("\"auto\""));
        Assert.Null(Forced("\"none\""));
        var unknown = Assert.Throws<ApiException>(() => Forced("""{"type": "function", "function": {"name": "h"}}"""));
        Assert.Equal("tool_choice", unknown.Param);
    }

    [Fact]
    public void ToolsBecomeDefinitionsUnlessNoneAreWanted()
    {
        var dto = Chat("""{"tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object"}}}, {"type": "function", "function": {"name": "now"}}]}""");
        var tools = ToolValidator.Read(dto.Tools, dto.ToolChoice).Offered!;
        Assert.Equal(["get_weather", "now"], tools.Select(t => t.Name));
        Assert.Equal("Weather", tools[0].Description);
        Assert.Equal("object", tools[0].Parameters!.Value.GetProperty("type").GetString());
        Assert.Null(tools[1].Parameters);
        var none = Chat("""{"tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "none"}""");
        Assert.Null(ToolValidator.Read(none.Tools, none.ToolChoice).Offered);
        var empty = Chat("""{"tools": [], "tool_choice": "auto"}""");
        Assert.Null(ToolValidator.Read(empty.Tools, empty.ToolChoice).Offered);
        string many = string.Join(",", Enumerable.Range(0, ToolValidator.MaxTools + 1).Select(i => "{\"type\": \"function\", \"function\": {\"name\": \"f" + i + "\"}}"));
        var tooMany = Chat($$"""{"tools": [{{many}}]}""");
        Assert.Equal("tools", Assert.Throws<ApiException>(() => ToolValidator.Read(tooMany.Tools, tooMany.ToolChoice)).Param);
    }

    [Theory]
    [InlineData("""[{"role": "tool", "content": "21 C"}]""")] // no tool_call_id
    [InlineData("""[{"role": "tool", "content": "21 C", "tool_call_id": 5}]""")]
    [InlineData("""[{"role": "user", "content": "hi", "tool_calls": []}]""")]
    [InlineData("""[{"role": "assistant", "tool_calls": {"id": "a"}}]""")]
    [InlineData("""[{"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{}"}}]}]""")] // no id
    [InlineData("""[{"role": "assistant", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": "not json"}}]}]""")]
    [InlineData("""[{"role": "assistant", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}]}]""")] // arguments must be a string
    [InlineData("""[{"role": "assistant", "tool_calls": [{"id": "a", "type": "code", "function": {"name": "f", "arguments": "{}"}}]}]""")]
    public void BadToolMessagesAreRefused(string messages)
    {
        var dto = Chat($$"""{"messages": {{messages}}}""");
        var error = Assert.Throws<ApiException>(() => RequestValidator.Messages(dto.Messages));
        Assert.Equal("messages", error.Param);
    }

    [Fact]
    public void ToolMessagesKeepTheirCallsAndIds()
    {
        var dto = Chat("""
            {"messages": [{"role": "user", "content": "Weather?"},
              {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
              {"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "21 C"}]}
            """);
        var turns = RequestValidator.Messages(dto.Messages);
        Assert.Equal(["user", "assistant", "tool"], turns.Select(t => t.Role));
        var call = Assert.Single(turns[1].ToolCalls!);
        Assert.Equal(("call_1", "get_weather", "{\"city\": \"Paris\"}"), (call.Id, call.Name, call.Arguments));
        Assert.Equal("", turns[1].Content);
        Assert.Equal(("call_1", "get_weather", "21 C"), (turns[2].ToolCallId, turns[2].Name, turns[2].Content));
    }

    [Theory]
    [InlineData("""{"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}}""")] // no type
    [InlineData("""{"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object", "properties": {"a": {"type": "string", "pattern": "x"}}}}}}""")]
    [InlineData("""{"response_format": {"type": "json_schema"}}""")]
    [InlineData("""{"response_format": "json"}""")]
    [InlineData("""{"response_format": {"type": "xml"}}""")]
    [InlineData("""{"response_format": {}}""")]
    public void ResponseFormatsTheServerCannotHonourAreRefusedByName(string json)
    {
        var error = Assert.Throws<ApiException>(() => RequestValidator.ResponseFormat(Chat(json)));
        Assert.Equal(400, error.Status);
        Assert.Equal("response_format", error.Param);
    }

    [Fact]
    public void TextJsonModeAndSchemasAreHonoured()
    {
        Assert.Null(RequestValidator.ResponseFormat(Chat("""{}""")));
        Assert.Null(RequestValidator.ResponseFormat(Chat("""{"response_format": null}""")));
        Assert.Null(RequestValidator.ResponseFormat(Chat("""{"response_format": {"type": "text"}}""")));
        Assert.Null(RequestValidator.ResponseFormat(Chat("""{"response_format": {"type": "json_object"}}"""))!.Schema);
        Assert.NotNull(RequestValidator.ResponseFormat(Chat("""{"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object", "properties": {"a": {"type": "integer"}}}}}}"""))!.Schema);
    }

    [Theory]
    [InlineData("""{"prompt": "x", "suffix": "y", "echo": true}""", "echo")]
    [InlineData("""{"prompt": "x", "best_of": 3}""", "best_of")]
    public void CompletionFeaturesTheServerLacksAreRefusedByName(string json, string field)
    {
        var dto = System.Text.Json.JsonSerializer.Deserialize(json, ApiJsonContext.Default.CompletionRequestDto)!;
        Assert.Equal(field, Assert.Throws<ApiException>(() => RequestValidator.Unsupported(dto)).Param);
        RequestValidator.Unsupported(System.Text.Json.JsonSerializer.Deserialize("""{"prompt": "x", "suffix": "", "best_of": 1}""", ApiJsonContext.Default.CompletionRequestDto)!);
    }
}
