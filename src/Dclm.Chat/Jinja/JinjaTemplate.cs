using Dclm.Chat.Tools;

namespace Dclm.Chat.Jinja;

/// <summary>
/// A Hugging Face chat template (Jinja2) parsed once and rendered per conversation: the subset of Jinja that
/// chat templates use (if/for/set/with, macros and call blocks, filter and raw blocks, namespaces, loop variables,
/// string methods, printf formatting, common filters and tests,
/// raise_exception), with whitespace handled as transformers' environment handles it (trim_blocks,
/// lstrip_blocks). Output keeps message content apart from template markup.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly List<Node> _nodes;

    private JinjaTemplate(string source, List<Node> nodes) => (Source, _nodes) = (source, nodes);

    /// <summary>The template text.</summary>
    public string Source { get; }

    /// <summary>Parses <paramref name="source"/>; throws <see cref="JinjaException"/> naming what it cannot read.</summary>
    public static JinjaTemplate Parse(string source)
    {
        if (source.Length > 1 << 20) throw new JinjaException("a chat template over 1 MB");
        return new(source, JinjaParser.Parse(source));
    }

    /// <summary>
    /// Renders <paramref name="messages"/> (each with <c>role</c> and <c>content</c>, and tool calls where they
    /// have them), with the tokenizer's special token texts, followed by the opening of the assistant's turn when
    /// <paramref name="addGenerationPrompt"/>. <paramref name="tools"/> are the functions the model may call
    /// (the template's <c>tools</c>; none when null, as transformers passes it).
    /// </summary>
    /// <remarks>
    /// <c>strftime_now(format)</c>, which transformers provides, formats <paramref name="now"/> (default: the local time).
    /// Without <paramref name="tools"/> the template's <c>tools</c> is undefined, as llama.cpp's server leaves it (transformers
    /// passes None, which templates that loop over <c>tools</c> cannot take). <paramref name="context"/> holds further text
    /// variables a template reads (Firefunction v2's <c>functions</c> and <c>datetime</c>); call arguments are a mapping, as
    /// transformers passes them, unless <paramref name="argumentsAsText"/> (see <see cref="TakesArgumentsAsText"/>).
    /// </remarks>
    public IReadOnlyList<PromptSegment> Render(IReadOnlyList<ChatTurn> messages, string beginningOfSequence, string endOfSequence, bool addGenerationPrompt = true,
        DateTime? now = null, IReadOnlyList<ToolDefinition>? tools = null, IReadOnlyDictionary<string, string>? context = null, bool argumentsAsText = false)
    {
        var variables = new Dictionary<string, object?>
        {
            ["messages"] = JinjaChatValues.Messages(messages, argumentsAsText),
            ["documents"] = null,
            ["bos_token"] = JinjaText.Markup(beginningOfSequence),
            ["eos_token"] = JinjaText.Markup(endOfSequence),
            ["add_generation_prompt"] = addGenerationPrompt,
            ["strftime_now"] = new JinjaRenderer.Clock(now ?? DateTime.Now),
        };
        if (tools is not null) variables["tools"] = JinjaChatValues.Tools(tools);
        // Client text (Firefunction's functions hold the tools' descriptions), so content, never markup.
        foreach (var (name, value) in context ?? new Dictionary<string, string>()) variables[name] = JinjaText.Content(value);
        try
        {
            return JinjaRenderer.Render(_nodes, variables);
        }
        catch (Exception e) when (e is InvalidCastException or OverflowException or FormatException or ArgumentException)
        {
            throw new JinjaException(e.Message);
        }
    }

    /// <summary>
    /// Whether the template shows a call's arguments only when they are JSON text, not when they are a mapping (as
    /// transformers passes them): Functionary's and Firefunction's templates concatenate them as text, written for
    /// OpenAI's JSON-text arguments. Probed as minja (llama.cpp's template engine) probes it: an assistant turn calling
    /// <c>ipython</c> with an <c>argument_needle</c> is rendered both ways, and the needle looked for in the output.
    /// </summary>
    public bool TakesArgumentsAsText(IReadOnlyDictionary<string, string>? context = null)
    {
        if (!Source.Contains("tool_calls", StringComparison.Ordinal)) return false;
        bool Shows(bool asText)
        {
            ChatTurn[] probe = [new("user", "Hey"), new("assistant", "") { ToolCalls = [new ToolCall("call_1___", "ipython", ProbeArguments)] }];
            try
            {
                string output = string.Concat(Render(probe, "<s>", "</s>", addGenerationPrompt: false, context: context, argumentsAsText: asText).Select(s => s.Text));
                return output.Contains("\"argument_needle\":", StringComparison.Ordinal) || output.Contains("'argument_needle':", StringComparison.Ordinal);
            }
            catch (JinjaException) { return false; }
        }
        return !Shows(asText: false) && Shows(asText: true);
    }

    private const string ProbeArguments = """{"argument_needle": "print('Hello, World!')"}""";
}
