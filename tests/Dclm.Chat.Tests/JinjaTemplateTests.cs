using System.Text.Json;
using Dclm.Chat;
using Dclm.Chat.Jinja;
using Dclm.Chat.Tools;

namespace Dclm.Chat.Tests;

/// <summary>
/// Real Hugging Face chat templates rendered by our Jinja engine against Jinja2's own output (fixtures written by
/// scripts/chat-template-fixtures.py with transformers' settings), including templates that refuse a conversation.
/// </summary>
public sealed class JinjaTemplateTests
{
    public static TheoryData<string, string, bool> Cases()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var c in Fixture()) data.Add(c.GetProperty("template").GetString()!, c.GetProperty("conversation").GetString()!, c.GetProperty("add_generation_prompt").GetBoolean());
        return data;
    }

    private static IEnumerable<JsonElement> Fixture() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "chat-templates.json"))).RootElement.EnumerateArray();

    [Theory]
    [MemberData(nameof(Cases))]
    public void RendersWhatJinja2Renders(string name, string conversation, bool generationPrompt)
    {
        var c = Fixture().Single(c => c.GetProperty("template").GetString() == name && c.GetProperty("conversation").GetString() == conversation
            && c.GetProperty("add_generation_prompt").GetBoolean() == generationPrompt);
        var template = JinjaTemplate.Parse(c.GetProperty("source").GetString()!);
        var messages = c.GetProperty("messages").EnumerateArray().Select(Turn).ToList();
        var tools = c.TryGetProperty("tools", out var list) ? list.EnumerateArray().Select(Tool).ToList() : null;
        var now = DateTime.Parse(c.GetProperty("now").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        var context = c.TryGetProperty("context", out var variables) ? variables.EnumerateObject().ToDictionary(v => v.Name, v => v.Value.GetString()!) : null;
        IReadOnlyList<PromptSegment> Render() => template.Render(messages, c.GetProperty("bos_token").GetString()!, c.GetProperty("eos_token").GetString()!, generationPrompt, now, tools, context,
            template.TakesArgumentsAsText(context));
        if (c.TryGetProperty("error", out var error))
        {
            var thrown = Assert.Throws<JinjaException>(Render);
            // raise_exception's message is the template's own; Jinja2's and Python's other errors are worded their way.
            if (c.GetProperty("raised").GetBoolean()) Assert.Equal(error.GetString(), thrown.Message);
            return;
        }
        var segments = Render();
        Assert.Equal(c.GetProperty("expected").GetString(), string.Concat(segments.Select(s => s.Text)));
        // Every message's text, and every tool description, reaches the output as content, never as markup.
        var texts = messages.Select(m => m.Content).Concat(tools?.Select(t => t.Description!) ?? []);
        string source = c.GetProperty("source").GetString()!;
        foreach (string text in texts.Select(t => t.Trim()).Where(t => t.Length > 3 && !source.Contains(t))) // the template's own words may hold it
            Assert.DoesNotContain(segments, s => s.IsMarkup && s.Text.Contains(text));
    }

    /// <summary>A fixture message as the API layer hands it over (it is an OpenAI request's message): tool call arguments as JSON text.</summary>
    private static ChatTurn Turn(JsonElement m) => new(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)
    {
        ToolCalls = m.TryGetProperty("tool_calls", out var calls)
            ? calls.EnumerateArray().Select(call => new ToolCall(call.GetProperty("id").GetString()!, call.GetProperty("function").GetProperty("name").GetString()!,
                call.GetProperty("function").GetProperty("arguments").GetString()!)).ToList()
            : null,
        ToolCallId = m.TryGetProperty("tool_call_id", out var id) ? id.GetString() : null,
        Name = m.TryGetProperty("name", out var name) ? name.GetString() : null,
    };

    private static ToolDefinition Tool(JsonElement tool)
    {
        var function = tool.GetProperty("function");
        return new(function.GetProperty("name").GetString()!, function.GetProperty("description").GetString(), function.GetProperty("parameters").Clone());
    }

    [Theory]
    [InlineData("{% for m in messages %}", "missing")]
    [InlineData("{{ messages[0 }}", "never closed")]
    [InlineData("{% include 'other.jinja' %}", "unsupported tag")]
    [InlineData("{% call f() %}{% endcall %}", "must call a macro")]
    [InlineData("{% raw %}never closed", "missing '{% endraw %}'")]
    [InlineData("{{ '%d' % 'x' }}", "a number is required")]
    [InlineData("{{ '%s %s' % 'x' }}", "not enough arguments")]
    [InlineData("{{ '%s' % ('x', 'y') }}", "not all arguments converted")]
    [InlineData("{{ '%99999d' % 1 }}", "over 9999")]
    [InlineData("{{ 2 ** 100 }}", "beyond 64-bit")]
    [InlineData("{{ 1 is divisibleby 0 }}", "non-zero")]
    [InlineData("{{ [1, 'a'] | sort }}", "cannot order")]
    [InlineData("{% macro f(x) %}{{ f(x) }}{% endmacro %}{{ f(1) }}", "macros nested")]
    [InlineData("{{ 'a' | frobnicate }}", "unsupported filter")]
    [InlineData("{{ 1 + }}", "ends too early")]
    [InlineData("{{ 'open }}", "never closed")]
    public void BadTemplatesAreRefusedByName(string source, string expected)
    {
        var error = Assert.Throws<JinjaException>(() => JinjaTemplate.Parse(source).Render([new("user", "hi")], "<s>", "</s>"));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void DeepNestingIsRefusedInsteadOfOverflowingTheStack()
    {
        foreach (string source in new[] { "{{ " + new string('(', 100_000) + "1" + new string(')', 100_000) + " }}", "{{ " + string.Concat(Enumerable.Repeat("not ", 100_000)) + "1 }}",
            string.Concat(Enumerable.Repeat("{% if 1 %}", 100_000)), "{{ " + new string('-', 100_000) + "1 }}" })
            Assert.Contains("nested", Assert.Throws<JinjaException>(() => JinjaTemplate.Parse(source)).Message);
    }

    [Fact]
    public void FiltersOverLongListsRender()
    {
        // unique keeps a set (a pairwise scan would take 5e9 comparisons here); sort is n log n.
        string source = "{{ range(100000) | unique | list | length }} {{ (range(100000) | map('string') | sort | first) }} {{ [1, 1.0, true, 'a', 'A'] | unique | list | length }}";
        Assert.Equal("100000 0 2", string.Concat(JinjaTemplate.Parse(source).Render([new("user", "hi")], "<s>", "</s>").Select(s => s.Text)));
    }

    [Fact]
    public void RunawayLoopsStop()
    {
        foreach (string source in new[] { "{% for i in range(1000000) %}{% for j in range(1000000) %}x{% endfor %}{% endfor %}",
            "{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}",
            "{{ (messages[0].content * 200000) | list | length }}",
            "{% set ns = namespace(s='') %}{% for i in range(100000) %}{% set ns.s = ns.s + 'abcdefghij' %}{% endfor %}{{ ns.s }}",
            "{% for i in range(90000) %}{{ messages[0].content * 1 if false else 'x' * 1 if false else 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz' }}{% endfor %}",
            // Strings built outside concatenation count against the same budget: padding, formatting, JSON, repr, mapped text.
            "{% for i in range(100000) %}{% set y = 'x' | center(4000000) %}{% endfor %}",
            "{% for i in range(100000) %}{% set y = '%4000s' % 'x' %}{% endfor %}",
            "{% set big = range(100000) | list %}{% for i in range(100000) %}{% set y = big | tojson %}{% set z = big | string %}{% endfor %}",
            "{% set s = 'a' * 4000000 %}{% for i in range(100000) %}{% set y = s | upper %}{% endfor %}",
            "{% macro m() %}{% call m() %}{% endcall %}{% endmacro %}{{ m() }}" })
            Assert.Throws<JinjaException>(() => JinjaTemplate.Parse(source).Render([new("user", "hi")], "<s>", "</s>"));
    }
}
