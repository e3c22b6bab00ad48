namespace Dclm.Server.Chat.Jinja;

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
    /// Renders <paramref name="messages"/> (each with <c>role</c> and <c>content</c>), with the tokenizer's
    /// special token texts, followed by the opening of the assistant's turn when <paramref name="addGenerationPrompt"/>.
    /// </summary>
    /// <remarks><c>strftime_now(format)</c>, which transformers provides, formats <paramref name="now"/> (default: the local time).</remarks>
    public IReadOnlyList<PromptSegment> Render(IReadOnlyList<ChatTurn> messages, string beginningOfSequence, string endOfSequence, bool addGenerationPrompt = true,
        DateTime? now = null)
    {
        var list = messages.Select(m => (object?)new Dictionary<string, object?>
        {
            // A role of plain letters (the API allows system, user and assistant) is template text; anything else content.
            ["role"] = m.Role.Length > 0 && m.Role.All(c => c is >= 'a' and <= 'z' or '_') ? JinjaText.Markup(m.Role) : JinjaText.Content(m.Role),
            ["content"] = JinjaText.Content(m.Content),
        }).ToList();
        var variables = new Dictionary<string, object?>
        {
            ["messages"] = list,
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
