using System.Text;

namespace Dclm.Server.Chat;

/// <summary>A piece of a rendered chat prompt: template markup, or message content to encode as plain text.</summary>
/// <param name="Text">The text.</param>
/// <param name="IsMarkup">True for the template's own text, whose special tokens are parsed.</param>
public readonly record struct PromptSegment(string Text, bool IsMarkup);

/// <summary>One message of a conversation, already validated.</summary>
/// <param name="Role">"system", "user" or "assistant".</param>
/// <param name="Content">The message text.</param>
public readonly record struct ChatTurn(string Role, string Content);

/// <summary>The chat formats the server recognises in a model's Jinja <c>chat_template</c>.</summary>
public enum ChatTemplateKind
{
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
/// Turns a conversation into prompt text. There is no Jinja engine for .NET in the package registry,
/// so the model's Jinja template is recognised by its markers and rendered by hand-written C# for
/// the common formats; anything else falls back to <see cref="ChatTemplateKind.Plain"/>.
/// </summary>
public sealed class ChatTemplate
{
    private ChatTemplate(ChatTemplateKind kind) => Kind = kind;

    /// <summary>The recognised format.</summary>
    public ChatTemplateKind Kind { get; }

    /// <summary>The plain default.</summary>
    public static ChatTemplate Plain { get; } = new(ChatTemplateKind.Plain);

    /// <summary>Recognises a Jinja chat template by the markers it writes; null or unknown gives <see cref="Plain"/>.</summary>
    public static ChatTemplate Recognise(string? jinja)
    {
        if (string.IsNullOrWhiteSpace(jinja)) return Plain;
        if (jinja.Contains("<|im_start|>", StringComparison.Ordinal)) return new(ChatTemplateKind.ChatMl);
        if (jinja.Contains("<|start_header_id|>", StringComparison.Ordinal)) return new(ChatTemplateKind.Llama3);
        if (jinja.Contains("[INST]", StringComparison.Ordinal)) return new(ChatTemplateKind.Llama2);
        return Plain;
    }

    /// <summary>Strings that end the assistant's turn in text (the plain format's next "User:" line).</summary>
    public IReadOnlyList<string> StopStrings => Kind == ChatTemplateKind.Plain ? ["\nUser:"] : [];

    /// <summary>Special tokens that end the assistant's turn, looked up in the vocabulary.</summary>
    public IReadOnlyList<string> EndOfTurnTokens => Kind switch
    {
        ChatTemplateKind.ChatMl => ["<|im_end|>"],
        ChatTemplateKind.Llama3 => ["<|eot_id|>"],
        _ => [],
    };

    /// <summary>Whether the rendered text carries its own beginning-of-sequence marker (so none is prepended).</summary>
    public bool WritesBeginningOfSequence => Kind is ChatTemplateKind.Llama2 or ChatTemplateKind.Llama3;

    /// <summary>Renders the conversation followed by the opening of the assistant's reply.</summary>
    public string Render(IReadOnlyList<ChatTurn> messages) => string.Concat(Segments(messages).Select(s => s.Text));

    /// <summary>
    /// The rendered prompt in pieces: template markup (whose special tokens are parsed) and message
    /// content (encoded as plain text, so a user cannot forge an end-of-turn token).
    /// </summary>
    public IReadOnlyList<PromptSegment> Segments(IReadOnlyList<ChatTurn> messages)
    {
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
