using Dclm.Chat.Replies;
using Dclm.Chat.Tools;
using Dclm.Inference.Engine;

namespace Dclm.Chat;

/// <summary>
/// A conversation ready for the engine: its token ids, the ids that end the assistant's turn, and what is
/// needed to read the reply (the template used, the tools offered, whether the prompt opened a thinking block, and
/// the control tokens of the call syntax whose text must be kept in the reply, by id).
/// </summary>
public sealed record ChatPrompt(int[] Ids, int[] StopTokenIds, ChatTemplate Template, IReadOnlyList<ToolDefinition>? Tools, bool OpensThinking)
{
    /// <summary>Control tokens that decoding drops but the call syntax needs, by id (empty when none or no tools are offered).</summary>
    public IReadOnlyDictionary<int, string> KeptMarkers { get; init; } = new Dictionary<int, string>();

    /// <summary>
    /// A reader for one reply: thinking is split off when <paramref name="splitReasoning"/> and the template is
    /// a reasoning model's; calls are taken out when tools were offered (and a format that marks every reply, such as
    /// Functionary's "all\n", has its marking dropped in any case).
    /// </summary>
    public ReplyParser CreateParser(bool splitReasoning) => new(
        splitReasoning && Template.ReasoningMarkers is var (open, close) ? new ReasoningSplitter(OpensThinking, open, close) : null,
        Template.ToolFormat is not { } format ? null
            : Tools is not null ? format.CreateExtractor()
            : format.ReadsEveryReply ? format.CreateExtractor(withCalls: false) : null);

    /// <summary>
    /// The text one generated token adds to the reply as the parser must see it: the decoded text, and the marker's
    /// text when the token is a kept control token (decoding gives it none).
    /// </summary>
    public string ReplyPiece(GenerationUpdate update) =>
        update.TokenId >= 0 && KeptMarkers.TryGetValue(update.TokenId, out string? marker) ? update.Text + marker : update.Text;
}
