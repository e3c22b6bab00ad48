using Dclm.Chat.Jinja;
using Dclm.Chat.Tools;
using Dclm.Inference.Engine;

namespace Dclm.Chat;

/// <summary>A piece of a rendered chat prompt: template markup, or message content to encode as plain text.</summary>
/// <param name="Text">The text.</param>
/// <param name="IsMarkup">True for the template's own text, whose special tokens are parsed.</param>
public readonly record struct PromptSegment(string Text, bool IsMarkup);

/// <summary>One message of a conversation, already validated.</summary>
/// <param name="Role">"system", "user", "assistant" or "tool".</param>
/// <param name="Content">The message text ("" for an assistant message that only calls tools).</param>
public readonly record struct ChatTurn(string Role, string Content)
{
    /// <summary>The functions an assistant message called, or null.</summary>
    public IReadOnlyList<ToolCall>? ToolCalls { get; init; }

    /// <summary>For a tool message: the id of the call it answers.</summary>
    public string? ToolCallId { get; init; }

    /// <summary>For a tool message: the function that answered, when the client names it.</summary>
    public string? Name { get; init; }

    /// <summary>Whether the message belongs to function calling (a tool's answer, or an assistant's calls).</summary>
    public bool UsesTools => Role == "tool" || ToolCalls is { Count: > 0 };
}

/// <summary>The chat formats the server recognises in a model's Jinja <c>chat_template</c>.</summary>
public enum ChatTemplateKind
{
    /// <summary>The model's own Jinja template, rendered by <see cref="JinjaTemplate"/>.</summary>
    Jinja,
    /// <summary>No template, or one not recognised: "User: …\nAssistant: …" lines, suited to base models like DCLM-7B.</summary>
    Plain,
    /// <summary>ChatML (<c>&lt;|im_start|&gt;role\n…&lt;|im_end|&gt;</c>), as Qwen and many fine-tunes use.</summary>
    ChatMl,
    /// <summary>Llama 2 (<c>[INST] … [/INST]</c> with a <c>&lt;&lt;SYS&gt;&gt;</c> block).</summary>
    Llama2,
    /// <summary>Llama 3 (<c>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;</c> … <c>&lt;|eot_id|&gt;</c>).</summary>
    Llama3,
}

/// <summary>
/// Turns a conversation into prompt text: with the model's Jinja template when our engine renders it
/// (<see cref="JinjaTemplate"/>, checked on a sample conversation at load), else the common formats
/// recognised by their markers and written by hand, else <see cref="ChatTemplateKind.Plain"/>. A template that is
/// replaced so says why in <see cref="Fallback"/>, which the server logs and the command line shows.
/// </summary>
public sealed class ChatTemplate
{
    // Known end-of-turn markers, looked up in a Jinja template's text.
    private static readonly string[] EndOfTurnMarkers = ["<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<end_of_turn>", "<|end|>", "<|END_OF_TURN_TOKEN|>", "<|end_of_turn|>", "<|EOT|>"];
    private readonly JinjaTemplate? _jinja;
    private readonly string _beginningOfSequence = "", _endOfSequence = "";
    private readonly bool _argumentsAsText;

    private ChatTemplate(ChatTemplateKind kind, string? fallback = null)
    {
        Kind = kind;
        Fallback = fallback;
        EndOfTurnTokens = kind switch
        {
            ChatTemplateKind.ChatMl => ["<|im_end|>"],
            ChatTemplateKind.Llama3 => ["<|eot_id|>"],
            _ => [],
        };
        WritesBeginningOfSequence = kind is ChatTemplateKind.Llama2 or ChatTemplateKind.Llama3;
    }

    private ChatTemplate(JinjaTemplate jinja, string beginningOfSequence, string endOfSequence, ToolCallFormat format, bool argumentsAsText) : this(ChatTemplateKind.Jinja)
    {
        (_jinja, _beginningOfSequence, _endOfSequence, _argumentsAsText) = (jinja, beginningOfSequence, endOfSequence, argumentsAsText);
        // Read from the template's text once, not per request (a template may be up to 1 MB).
        EndOfTurnTokens = EndOfTurnMarkers.Where(m => jinja.Source.Contains(m, StringComparison.Ordinal)).ToArray();
        WritesBeginningOfSequence = jinja.Source.Contains("bos_token", StringComparison.Ordinal);
        ToolFormat = format;
        // Command R7B plans its calls between its own thinking markers.
        ReasoningMarkers = jinja.Source.Contains("</think>", StringComparison.Ordinal) ? ("<think>", "</think>")
            : format.Syntax == ToolCallSyntax.CommandR7b ? ("<|START_THINKING|>", "<|END_THINKING|>") : null;
    }

    /// <summary>Whether the model thinks before answering (in <c>&lt;think&gt;…&lt;/think&gt;</c>, or Command R7B's thinking markers).</summary>
    public bool Reasons => ReasoningMarkers is not null;

    /// <summary>The markers around the model's thinking, or null when it does not reason.</summary>
    public (string Open, string Close)? ReasoningMarkers { get; }

    /// <summary>How the model writes function calls, read from its Jinja template; null for a built-in layout, which takes no tools.</summary>
    public ToolCallFormat? ToolFormat { get; }

    /// <summary>The recognised format.</summary>
    public ChatTemplateKind Kind { get; }

    /// <summary>
    /// Why the model's own template is not used and which built-in layout replaces it, or null when it is used (or the
    /// model has none).
    /// </summary>
    public string? Fallback { get; }

    /// <summary>The plain default.</summary>
    public static ChatTemplate Plain { get; } = new(ChatTemplateKind.Plain);

    /// <summary>
    /// The model's Jinja chat template when it renders a sample conversation (with or without a system message) and
    /// keeps its last message; otherwise the format its markers name, with <see cref="Fallback"/> saying why; null or
    /// empty gives <see cref="Plain"/>. <paramref name="beginningOfSequence"/> and <paramref name="endOfSequence"/> are
    /// the tokenizer's texts for <c>bos_token</c> and <c>eos_token</c>.
    /// </summary>
    public static ChatTemplate Recognise(string? jinja, string beginningOfSequence = "", string endOfSequence = "")
    {
        if (string.IsNullOrWhiteSpace(jinja)) return Plain;
        var (rendered, problem) = TryJinja(jinja, beginningOfSequence, endOfSequence);
        if (rendered is not null) return rendered;
        var kind = jinja.Contains("<|im_start|>", StringComparison.Ordinal) ? ChatTemplateKind.ChatMl
            : jinja.Contains("<|start_header_id|>", StringComparison.Ordinal) ? ChatTemplateKind.Llama3
            : jinja.Contains("[INST]", StringComparison.Ordinal) ? ChatTemplateKind.Llama2
            : ChatTemplateKind.Plain;
        string layout = kind switch
        {
            ChatTemplateKind.ChatMl => "ChatML (<|im_start|>role ... <|im_end|>)",
            ChatTemplateKind.Llama3 => "Llama 3 (<|start_header_id|>role<|end_header_id|> ... <|eot_id|>)",
            ChatTemplateKind.Llama2 => "Llama 2 ([INST] ... [/INST])",
            _ => "plain (User: ... / Assistant: ...)",
        };
        return new ChatTemplate(kind, $"the chat template cannot be used: {problem}; prompts use the built-in {layout} layout instead, which may differ from what the model was trained on");
    }

    private static (ChatTemplate? Template, string Problem) TryJinja(string source, string beginningOfSequence, string endOfSequence)
    {
        JinjaTemplate template;
        try { template = JinjaTemplate.Parse(source); }
        catch (JinjaException e) { return (null, e.Message); }
        var format = ToolCallFormat.Detect(source);
        var context = format.Context(null, DateTimeOffset.UnixEpoch);
        ChatTurn[][] samples =
        [
            [new("system", "Be brief."), new("user", "Hello there"), new("assistant", "Hi."), new("user", "What is the sample question")],
            [new("user", "Hello there"), new("assistant", "Hi."), new("user", "What is the sample question")],
        ];
        string problem = "";
        foreach (var sample in samples)
        {
            try
            {
                var segments = template.Render(sample, beginningOfSequence, endOfSequence, now: DateTime.UnixEpoch, context: context);
                if (segments.Any(s => !s.IsMarkup && s.Text.Contains("What is the sample question")))
                    return (new ChatTemplate(template, beginningOfSequence, endOfSequence, format, template.TakesArgumentsAsText(context)), "");
                problem = "it renders a conversation without the conversation's messages";
            }
            catch (JinjaException e)
            {
                // A template's own refusal (raise_exception) of one sample says nothing yet; an error the engine hits does.
                if (problem.Length == 0 || !e.RaisedByTemplate) problem = e.RaisedByTemplate ? $"it refuses a plain conversation: {e.Message}" : e.Message;
            }
        }
        return (null, problem);
    }

    /// <summary>Strings that end the assistant's turn in text (the plain format's next "User:" line).</summary>
    public IReadOnlyList<string> StopStrings => Kind == ChatTemplateKind.Plain ? ["\nUser:"] : [];

    /// <summary>Special tokens that end the assistant's turn, looked up in the vocabulary.</summary>
    public IReadOnlyList<string> EndOfTurnTokens { get; }

    /// <summary>Whether the rendered text carries its own beginning-of-sequence marker (so none is prepended).</summary>
    public bool WritesBeginningOfSequence { get; }

    /// <summary>Renders the conversation followed by the opening of the assistant's reply (<paramref name="now"/> for the templates that print the date).</summary>
    public string Render(IReadOnlyList<ChatTurn> messages, IReadOnlyList<ToolDefinition>? tools = null, DateTimeOffset? now = null) =>
        string.Concat(Segments(messages, tools, now).Select(s => s.Text));

    /// <summary>
    /// The rendered prompt in pieces: template markup (whose special tokens are parsed) and message
    /// content (encoded as plain text, so a user cannot forge an end-of-turn token). <paramref name="tools"/>
    /// are the functions the model may call; only a Jinja template takes them (rendered as the template renders them, which
    /// for some is not at all: see <see cref="ToolCallFormat.ShowsTools"/>) and renders tool messages. <paramref name="now"/>
    /// is the time <c>strftime_now</c> and Firefunction's <c>datetime</c> give (default: now).
    /// </summary>
    public IReadOnlyList<PromptSegment> Segments(IReadOnlyList<ChatTurn> messages, IReadOnlyList<ToolDefinition>? tools = null, DateTimeOffset? now = null)
    {
        if (tools is not null && ToolFormat is null)
            throw new RequestValidationException("tools", Fallback is null
                ? "this model has no chat template that takes tools (function calling needs a model whose chat template renders them)"
                : "this model's chat template cannot be rendered, so it takes no tools (its built-in replacement has no function calling)");
        if (_jinja is null && messages.Any(m => m.UsesTools))
            throw new RequestValidationException("messages", "tool messages and tool_calls need a model whose chat template supports function calling");
        if (_jinja is not null)
        {
            var time = now ?? DateTimeOffset.Now;
            try { return _jinja.Render(messages, _beginningOfSequence, _endOfSequence, now: time.DateTime, tools: tools, context: ToolFormat!.Context(tools, time), argumentsAsText: _argumentsAsText); }
            catch (JinjaException e) { throw new RequestValidationException("messages", $"the model's chat template refuses this conversation: {e.Message}"); }
        }
        var output = new List<PromptSegment>();
        void Markup(string text) => output.Add(new PromptSegment(text, true));
        void Content(string text) { if (text.Length > 0) output.Add(new PromptSegment(text, false)); }
        switch (Kind)
        {
            case ChatTemplateKind.ChatMl:
                foreach (var (role, content) in messages) { Markup($"<|im_start|>{role}\n"); Content(content); Markup("<|im_end|>\n"); }
                Markup("<|im_start|>assistant\n");
                break;
            case ChatTemplateKind.Llama3:
                Markup("<|begin_of_text|>");
                foreach (var (role, content) in messages) { Markup($"<|start_header_id|>{role}<|end_header_id|>\n\n"); Content(content.Trim()); Markup("<|eot_id|>"); }
                Markup("<|start_header_id|>assistant<|end_header_id|>\n\n");
                break;
            case ChatTemplateKind.Llama2:
                string? system = null;
                foreach (var (role, content) in messages)
                {
                    if (role == "system") { system = content.Trim(); continue; }
                    if (role != "user") { Markup(" "); Content(content.Trim()); Markup(" </s>"); continue; }
                    Markup("<s>[INST] ");
                    if (system is not null) { Markup("<<SYS>>\n"); Content(system); Markup("\n<</SYS>>\n\n"); system = null; }
                    Content(content.Trim());
                    Markup(" [/INST]");
                }
                break;
            default:
                // The assistant's earlier replies are written exactly as the model produced them after
                // "Assistant:", so the next turn's tokens start with the previous turn's and its KV is reused.
                foreach (var (role, content) in messages)
                {
                    if (role == "system") { Content(content.Trim()); Markup("\n\n"); }
                    else { Markup(role == "user" ? "User: " : "Assistant: "); Content(content.Trim()); Markup("\n"); }
                }
                Markup("Assistant:");
                break;
        }
        return output;
    }
}
