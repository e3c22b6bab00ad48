namespace Dclm.Training.FineTuning.Data;

/// <summary>One message of a training conversation.</summary>
/// <param name="Role">"system", "user" or "assistant".</param>
/// <param name="Content">The text.</param>
/// <param name="Learned">For an assistant message: whether its tokens are learned (OpenAI's per-message weight 1, the default).</param>
public readonly record struct ChatMessage(string Role, string Content, bool Learned = true);

/// <summary>A piece of a rendered conversation: the template's markup (special tokens parsed) or message content (plain text).</summary>
public readonly record struct ChatSegment(string Text, bool IsMarkup);

/// <summary>A model's chat template as the data loader needs it.</summary>
public interface IChatRenderer
{
    /// <summary>
    /// The conversation followed by the opening of the assistant's next reply (as it is rendered for generation),
    /// in markup and content pieces; errors name what the template refuses.
    /// </summary>
    IReadOnlyList<ChatSegment> Render(IReadOnlyList<ChatMessage> messages);

    /// <summary>Texts that end an assistant's turn: the template's end-of-turn special tokens and the end-of-sequence token.</summary>
    IReadOnlyList<string> EndOfTurnMarkers { get; }

    /// <summary>Whether the rendered text starts with its own beginning-of-sequence marker.</summary>
    bool WritesBeginningOfSequence { get; }
}
