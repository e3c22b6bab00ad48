using System.Text.Json;
using System.Text.Json.Nodes;
using Dclm.Chat.Tools;

namespace Dclm.Chat.Tests;

/// <summary>
/// Each call syntax llama.cpp's server reads, read from the 17 chat templates llama.cpp keeps (models/templates) as its
/// common_chat_templates_apply detects them, and replies in those syntaxes as llama.cpp's tests/test-chat.cpp writes them
/// (the function <c>special_function</c> with <c>{"arg1": 1}</c>, the answer "Hello, world!\nWhat's up?"), parsed whole and
/// streamed in pieces of any size through the reader a served prompt gets (<see cref="ChatPrompt.CreateParser"/>).
/// </summary>
public sealed class ToolCallSyntaxTests
{
    private const string Answer = "Hello, world!\nWhat's up?";
    private static readonly IReadOnlyList<ToolDefinition> Tools = [new("special_function", "I'm special", null), new("python", "Runs code", null)];

    private static readonly Lazy<JsonElement[]> Fixtures = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "chat-templates.json"))).RootElement.EnumerateArray().ToArray());

    private static ChatTemplate Template(string name)
    {
        var fixture = Fixtures.Value.First(c => c.GetProperty("template").GetString() == name);
        return ChatTemplate.Recognise(fixture.GetProperty("source").GetString(), fixture.GetProperty("bos_token").GetString() ?? "", fixture.GetProperty("eos_token").GetString() ?? "");
    }

    [Theory]
    [InlineData("NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use", ToolCallSyntax.Hermes)]
    [InlineData("NousResearch-Hermes-3-Llama-3.1-8B-tool_use", ToolCallSyntax.Hermes)]
    [InlineData("Qwen-Qwen2.5-7B-Instruct", ToolCallSyntax.Hermes)]
    [InlineData("meta-llama-Llama-3.1-8B-Instruct", ToolCallSyntax.JsonObject)]
    [InlineData("meta-llama-Llama-3.2-3B-Instruct", ToolCallSyntax.JsonObject)]
    [InlineData("meta-llama-Llama-3.3-70B-Instruct", ToolCallSyntax.JsonObject)]
    [InlineData("meetkai-functionary-medium-v3.1", ToolCallSyntax.FunctionaryV31)]
    [InlineData("meetkai-functionary-medium-v3.2", ToolCallSyntax.FunctionaryV32)]
    [InlineData("fireworks-ai-llama-3-firefunction-v2", ToolCallSyntax.FirefunctionV2)]
    [InlineData("CohereForAI-c4ai-command-r7b-12-2024-tool_use", ToolCallSyntax.CommandR7b)]
    [InlineData("deepseek-ai-DeepSeek-R1-Distill-Llama-8B", ToolCallSyntax.DeepSeekR1)]
    [InlineData("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B", ToolCallSyntax.DeepSeekR1)]
    [InlineData("llama-cpp-deepseek-r1", ToolCallSyntax.DeepSeekR1)]
    [InlineData("mistralai-Mistral-Nemo-Instruct-2407", ToolCallSyntax.JsonArray)]
    [InlineData("CohereForAI-c4ai-command-r-plus-tool_use", ToolCallSyntax.GenericJson)]
    [InlineData("google-gemma-2-2b-it", ToolCallSyntax.GenericJson)]
    [InlineData("microsoft-Phi-3.5-mini-instruct", ToolCallSyntax.GenericJson)]
    public void EachOfLlamaCppsTemplatesGetsItsSyntax(string template, ToolCallSyntax syntax)
    {
        var chat = Template(template);
        Assert.Equal(ChatTemplateKind.Jinja, chat.Kind); // its own template, no built-in stand-in
        Assert.Null(chat.Fallback);
        Assert.Equal(syntax, chat.ToolFormat!.Syntax);
    }

    public sealed record Case(string Template, string Reply, string Reasoning, string Content, params (string Name, string Arguments)[] Calls)
    {
        public bool OpensThinking { get; init; }
        public override string ToString() => $"{Template}: {Reply[..Math.Min(40, Reply.Length)]}";
    }

    private static readonly (string, string) Special = ("special_function", "{\"arg1\": 1}");

    public static TheoryData<Case, int> Replies()
    {
        Case[] cases =
        [
            new("NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use", "<tool_call>\n{\"name\": \"special_function\", \"arguments\": {\"arg1\": 1}}\n</tool_call>", "", "", Special),
            new("Qwen-Qwen2.5-7B-Instruct", Answer + "<tool_call>\n{\"name\": \"special_function\", \"arguments\": {\"arg1\": 1}}\n</tool_call>", "", Answer, Special),
            new("meta-llama-Llama-3.3-70B-Instruct", "{\"name\": \"special_function\", \"parameters\": {\"arg1\": 1}}", "", "", Special),
            new("meta-llama-Llama-3.1-8B-Instruct", "<|python_tag|>python.call(code=\"print('hey')\")", "", "", ("python", "{\"code\": \"print('hey')\"}")),
            new("meta-llama-Llama-3.1-8B-Instruct", "<|python_tag|>brave_search.call(query=\"what is special_function?\")", "", "", ("brave_search", "{\"query\": \"what is special_function?\"}")),
            new("meta-llama-Llama-3.2-3B-Instruct", Answer, "", Answer),
            new("meetkai-functionary-medium-v3.1", "<function=special_function>{\"arg1\": 1}</function>", "", "", Special),
            new("meetkai-functionary-medium-v3.1", Answer + "<function=special_function>{\"arg1\": 1}</function>", "", Answer, Special),
            new("meetkai-functionary-medium-v3.1", "<|python_tag|>print('hey')", "", "", ("python", "{\"code\": \"print('hey')\"}")),
            new("meetkai-functionary-medium-v3.2", "special_function\n{\"arg1\": 1}", "", "", Special),
            new("meetkai-functionary-medium-v3.2", "all\n" + Answer, "", Answer),
            new("meetkai-functionary-medium-v3.2", "all\n" + Answer + "\n>>>special_function\n{\"arg1\": 1}", "", Answer, Special),
            new("meetkai-functionary-medium-v3.2", "python\nprint('hey')", "", "", ("python", "{\"code\": \"print('hey')\"}")),
            new("fireworks-ai-llama-3-firefunction-v2", " functools[{\"name\": \"special_function\", \"arguments\": {\"arg1\": 1}}]", "", "", Special),
            new("fireworks-ai-llama-3-firefunction-v2", Answer, "", Answer),
            new("CohereForAI-c4ai-command-r7b-12-2024-tool_use",
                "<|START_THINKING|>I'm\nthinking<|END_THINKING|><|START_ACTION|>[\n    {\"tool_call_id\": \"0\", \"tool_name\": \"special_function\", \"parameters\": {\"arg1\": 1}}\n]<|END_ACTION|>",
                "I'm\nthinking", "", Special),
            new("CohereForAI-c4ai-command-r7b-12-2024-tool_use", "<|START_THINKING|>I'm\nthinking<|END_THINKING|><|START_RESPONSE|>" + Answer + "<|END_RESPONSE|>", "I'm\nthinking", Answer),
            new("CohereForAI-c4ai-command-r7b-12-2024-tool_use", "<|START_RESPONSE|>" + Answer + "<|END_RESPONSE|>", "", Answer),
            new("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B",
                "I'm\nthinking</think>\n\n<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>special_function\n```json\n{\"arg1\": 1}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
                "I'm\nthinking", "", Special) { OpensThinking = true },
            new("llama-cpp-deepseek-r1",
                "<think>I'm\nthinking</think>" + Answer + "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>special_function\n```json\n{\"arg1\": 1}\n```<｜tool▁call▁end｜>"
                + "<｜tool▁call▁begin｜>function<｜tool▁sep｜>python\n```json\n{\"code\": \"print('hey')\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
                "I'm\nthinking", Answer, Special, ("python", "{\"code\": \"print('hey')\"}")),
            new("mistralai-Mistral-Nemo-Instruct-2407", "[TOOL_CALLS][{\"name\": \"special_function\", \"arguments\": {\"arg1\": 1}, \"id\": \"123456789\"}]", "", "", Special),
            new("microsoft-Phi-3.5-mini-instruct",
                "{\n  \"tool_calls\": [\n    {\n      \"name\": \"special_function\",\n      \"arguments\": {\n        \"arg1\": 1\n      },\n      \"id\": \"123456789\"\n    }\n  ]\n}", "", "", Special),
            new("google-gemma-2-2b-it", "{\n  \"response\": \"Hello, world!\\nWhat's up?\"\n}", "", Answer),
            new("CohereForAI-c4ai-command-r-plus-tool_use", "{\"tool_call\": {\"name\": \"special_function\", \"arguments\": {\"arg1\": 1}}}", "", "", Special),
        ];
        var data = new TheoryData<Case, int>();
        foreach (var c in cases) foreach (int size in new[] { 1, 3, 1000 }) data.Add(c, size);
        return data;
    }

    [Theory]
    [MemberData(nameof(Replies))]
    public void RepliesInEachSyntaxComeBackAsCalls(Case sample, int size)
    {
        var prompt = new ChatPrompt([], [], Template(sample.Template), Tools, sample.OpensThinking);
        var parser = prompt.CreateParser(splitReasoning: true);
        string reasoning = "", content = "";
        for (int i = 0; i < sample.Reply.Length; i += size)
        {
            var piece = parser.Push(sample.Reply.Substring(i, Math.Min(size, sample.Reply.Length - i)));
            (reasoning, content) = (reasoning + piece.Reasoning, content + piece.Content);
        }
        var end = parser.Finish();
        Assert.False(end.MalformedCall);
        Assert.Equal(sample.Reasoning, (reasoning + end.Reasoning).Trim());
        Assert.Equal(sample.Content, (content + end.Content).Trim());
        Assert.Equal(sample.Calls.Select(c => c.Name), end.Calls.Select(c => c.Name));
        foreach (var (expected, call) in sample.Calls.Zip(end.Calls))
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected.Arguments), JsonNode.Parse(call.Arguments)), $"{call.Name}: {call.Arguments}");
        Assert.Equal(end.Calls.Count, end.Calls.Select(c => c.Id).Distinct().Count());
        // The same reply read whole.
        var whole = prompt.CreateParser(splitReasoning: true).Parse(sample.Reply);
        Assert.Equal(end.Calls.Select(c => (c.Name, c.Arguments)), whole.Calls.Select(c => (c.Name, c.Arguments)));
    }

    [Theory]
    [InlineData("meetkai-functionary-medium-v3.1", "<function=special_function>{\"arg1\": </function>")]
    [InlineData("fireworks-ai-llama-3-firefunction-v2", " functools[{\"name\": \"special_function\", \"arguments\": 1}]")]
    [InlineData("CohereForAI-c4ai-command-r7b-12-2024-tool_use", "<|START_ACTION|>[{\"tool_call_id\": \"0\", \"tool_name\": \"no spaces\", \"parameters\": {}}]<|END_ACTION|>")]
    [InlineData("llama-cpp-deepseek-r1", "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>special_function\n{\"arg1\": 1}<｜tool▁call▁end｜>")]
    public void ABrokenCallComesBackAsTextAndIsCountedMalformed(string template, string reply)
    {
        var end = new ChatPrompt([], [], Template(template), Tools, false).CreateParser(splitReasoning: false).Parse(reply);
        Assert.Empty(end.Calls);
        Assert.True(end.MalformedCall);
        Assert.Equal(reply.Trim(), end.Content.Trim());
    }

    [Fact]
    public void FunctionarysRecipientLineIsDroppedEvenWithoutTools()
    {
        var prompt = new ChatPrompt([], [], Template("meetkai-functionary-medium-v3.2"), null, false);
        Assert.Equal(Answer, prompt.CreateParser(splitReasoning: true).Parse("all\n" + Answer).Content);
    }

    [Fact]
    public void WithoutToolsACallShapedReplyIsText()
    {
        var prompt = new ChatPrompt([], [], Template("NousResearch-Hermes-3-Llama-3.1-8B-tool_use"), null, false);
        Assert.False(prompt.CreateParser(splitReasoning: true).IsActive);
    }
}
