using System.Text;

namespace Dclm.Server.Chat;

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
    public string Render(IReadOnlyList<ChatTurn> messages) => Kind switch
    {
        ChatTemplateKind.ChatMl => RenderChatMl(messages),
        ChatTemplateKind.Llama2 => RenderLlama2(messages),
        ChatTemplateKind.Llama3 => RenderLlama3(messages),
        _ => RenderPlain(messages),
    };

    private static string RenderPlain(IReadOnlyList<ChatTurn> messages)
    {
        // The assistant's earlier replies are written exactly as the model produced them after
        // "Assistant:", so the next turn's tokens start with the previous turn's and its KV is reused.
        var text = new StringBuilder();
        foreach (var (role, content) in messages)
        {
            if (role == "system") text.Append(content.Trim()).Append("\n\n");
            else if (role == "user") text.Append("User: ").Append(content.Trim()).Append('\n');
            else text.Append("Assistant: ").Append(content.Trim()).Append('\n');
        }
        return text.Append("Assistant:").ToString();
    }

    private static string RenderChatMl(IReadOnlyList<ChatTurn> messages)
    {
        var text = new StringBuilder();
        foreach (var (role, content) in messages) text.Append("<|im_start|>").Append(role).Append('\n').Append(content).Append("<|im_end|>\n");
        return text.Append("<|im_start|>assistant\n").ToString();
    }

    private static string RenderLlama2(IReadOnlyList<ChatTurn> messages)
    {
        var text = new StringBuilder();
        string? system = null;
        foreach (var (role, content) in messages)
        {
            if (role == "system") { system = content.Trim(); continue; }
            if (role == "user")
            {
                string user = system is null ? content.Trim() : $"<<SYS>>\n{system}\n<</SYS>>\n\n{content.Trim()}";
                system = null;
                text.Append("<s>[INST] ").Append(user).Append(" [/INST]");
            }
            else text.Append(' ').Append(content.Trim()).Append(" </s>");
        }
        return text.ToString();
    }

    private static string RenderLlama3(IReadOnlyList<ChatTurn> messages)
    {
        var text = new StringBuilder("<|begin_of_text|>");
        foreach (var (role, content) in messages)
            text.Append("<|start_header_id|>").Append(role).Append("<|end_header_id|>\n\n").Append(content.Trim()).Append("<|eot_id|>");
        return text.Append("<|start_header_id|>assistant<|end_header_id|>\n\n").ToString();
    }
}
