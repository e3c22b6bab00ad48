using System.Text.Json;
using Dclm.Chat.Tools;

namespace Dclm.Chat.Tests;

/// <summary>Function calls read out of model output in each family's syntax, whole or streamed in any pieces.</summary>
public sealed class ToolCallExtractorTests
{
    private static string TemplateSource(string name) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "chat-templates.json"))).RootElement
            .EnumerateArray().First(c => c.GetProperty("template").GetString() == name).GetProperty("source").GetString()!;

    [Theory]
    [InlineData("qwen3", ToolCallSyntax.Hermes)]
    [InlineData("mistral-small-3.1-24b-instruct-2503", ToolCallSyntax.JsonArray)]
    [InlineData("llama-3.1-latxa", ToolCallSyntax.JsonObject)]
    [InlineData("command-r7b-12-2024-tool-use", ToolCallSyntax.CommandR7b)]
    [InlineData("glm-4.5", ToolCallSyntax.GenericJson)] // <arg_key> pairs are not read: the generic JSON form is asked for instead
    public void TheSyntaxIsReadFromTheChatTemplate(string template, ToolCallSyntax syntax) =>
        Assert.Equal(syntax, ToolCallFormat.Detect(TemplateSource(template)).Syntax);

    [Fact]
    public void ATemplateThatNeverMentionsToolsDoesNotShowThem() => Assert.False(ToolCallFormat.Detect(TemplateSource("openhermes-chatml")).ShowsTools);

    private static ToolCallFormat Format(ToolCallSyntax syntax) => ToolCallFormat.Detect(syntax switch
    {
        ToolCallSyntax.Hermes => "tools <tool_call>",
        ToolCallSyntax.JsonArray => "tools [TOOL_CALLS]",
        _ => "tools <|start_header_id|> \"parameters\"",
    });

    /// <summary>Feeds <paramref name="text"/> in pieces of <paramref name="size"/> characters; returns the streamed content and the result.</summary>
    private static (string Streamed, string Remainder, IReadOnlyList<ToolCall> Calls) Run(ToolCallSyntax syntax, string text, int size)
    {
        var extractor = Format(syntax).CreateExtractor();
        string streamed = "";
        for (int i = 0; i < text.Length; i += size) streamed += extractor.Push(text.Substring(i, Math.Min(size, text.Length - i)));
        var (rest, calls) = extractor.Finish();
        return (streamed, rest, calls);
    }

    public static TheoryData<int> Sizes() => [1, 2, 3, 5, 7, 11, 1000];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void HermesCallsAfterTextAreSeparatedFromIt(int size)
    {
        const string text = "Let me check both.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>\n"
            + "<tool_call>\n{\"name\": \"local_time\", \"arguments\": {\"zone\": \"Europe/Paris\"}}\n</tool_call>";
        var (streamed, rest, calls) = Run(ToolCallSyntax.Hermes, text, size);
        Assert.Equal("Let me check both.\n", streamed); // shown as it came, the tag held back from the first '<'
        Assert.Equal("", rest);
        Assert.Equal(["get_weather", "local_time"], calls.Select(c => c.Name));
        Assert.Equal("{\"city\": \"Paris\", \"days\": 2}", calls[0].Arguments);
        Assert.Equal("{\"zone\": \"Europe/Paris\"}", calls[1].Arguments);
        Assert.All(calls, c => Assert.Matches("^call_[A-Za-z0-9]{24}$", c.Id));
        Assert.NotEqual(calls[0].Id, calls[1].Id);
    }

    [Theory]
    [InlineData(ToolCallSyntax.Hermes, "x < y and <tool is not a tag <tool_cal")]
    [InlineData(ToolCallSyntax.Hermes, "Try <tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": </tool_call>")] // bad JSON
    [InlineData(ToolCallSyntax.Hermes, "<tool_call>{\"name\": \"not a name!\", \"arguments\": {}}</tool_call>")]
    [InlineData(ToolCallSyntax.Hermes, "<tool_call>{\"name\": \"f\", \"arguments\": [1, 2]}</tool_call>")]
    [InlineData(ToolCallSyntax.JsonObject, "Hello there, {\"name\": \"f\"} is not a call when text comes first")]
    [InlineData(ToolCallSyntax.JsonObject, "  {\"name\": \"f\", \"parameters\": {\"a\": 1}} and then more text")]
    [InlineData(ToolCallSyntax.JsonObject, "<|python")]
    [InlineData(ToolCallSyntax.JsonArray, "[1] is a footnote, not a call")]
    [InlineData(ToolCallSyntax.JsonArray, "[]")]
    [InlineData(ToolCallSyntax.JsonArray, "Plain words.")]
    public void TextThatIsNotACallComesBackWhole(ToolCallSyntax syntax, string text)
    {
        foreach (int size in Sizes())
        {
            var (streamed, rest, calls) = Run(syntax, text, size);
            Assert.Empty(calls);
            Assert.Equal(text, streamed + rest);
        }
    }

    [Fact]
    public void ABrokenCallIsToldApartFromPlainText()
    {
        var format = Format(ToolCallSyntax.Hermes);
        Assert.True(format.Split("<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": </tool_call>").Malformed);
        Assert.False(format.Split("No call here.").Malformed);
        Assert.False(format.Split("<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>").Malformed);
    }

    [Fact]
    public void PlainTextStreamsAtOnceWhenTheReplyMustStartWithTheCall()
    {
        var extractor = Format(ToolCallSyntax.JsonObject).CreateExtractor();
        Assert.Equal("", extractor.Push("  "));
        Assert.Equal("  Paris", extractor.Push("Paris"));
        Assert.Equal(" is", extractor.Push(" is"));
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void LlamaReplyIsOneCallObject(int size)
    {
        foreach (string text in new[] { "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}", "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}",
                     "\n{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Paris\\\"}\"}" })
        {
            var (streamed, rest, calls) = Run(ToolCallSyntax.JsonObject, text, size);
            Assert.Equal("", streamed + rest);
            var call = Assert.Single(calls);
            Assert.Equal("get_weather", call.Name);
            Assert.Equal("Paris", JsonDocument.Parse(call.Arguments).RootElement.GetProperty("city").GetString());
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void MistralReplyIsAnArrayOfCalls(int size)
    {
        const string text = "[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}, {\"name\": \"local_time\"}]";
        foreach (string reply in new[] { text, "[TOOL_CALLS]" + text })
        {
            var (streamed, rest, calls) = Run(ToolCallSyntax.JsonArray, reply, size);
            Assert.Equal("", streamed + rest);
            Assert.Equal(["get_weather", "local_time"], calls.Select(c => c.Name));
            Assert.Equal("{}", calls[1].Arguments); // no arguments
            Assert.All(calls, c => Assert.Matches("^[A-Za-z0-9]{9}$", c.Id)); // what Mistral's template takes back
        }
    }
}
