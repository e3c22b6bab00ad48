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
    /// <remarks><c>strftime_now(format)</c>, which transformers provides, formats <paramref name="now"/> (default: the local time).</remarks>
    public IReadOnlyList<PromptSegment> Render(IReadOnlyList<ChatTurn> messages, string beginningOfSequence, string endOfSequence, bool addGenerationPrompt = true,
        DateTime? now = null, IReadOnlyList<ToolDefinition>? tools = null)
    {
        var variables = new Dictionary<string, object?>
        {
            ["messages"] = JinjaChatValues.Messages(messages),
            ["tools"] = tools is null ? null : JinjaChatValues.Tools(tools),
            ["documents"] = null,
            ["bos_token"] = JinjaText.Markup(beginningOfSequence),
            ["eos_token"] = JinjaText.Markup(endOfSequence),
            ["add_generation_prompt"] = addGenerationPrompt,
            ["strftime_now"] = new JinjaRenderer.Clock(now ?? DateTime.Now),
        };
        try
        {
            return JinjaRenderer.Render(_nodes, variables);
        }
        catch (Exception e) when (e is InvalidCastException or OverflowException or FormatException or ArgumentException)
        {
            throw new JinjaException(e.Message);
        }
    }
}
