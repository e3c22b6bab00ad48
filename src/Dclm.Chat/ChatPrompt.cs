using Dclm.Chat.Replies;
using Dclm.Chat.Tools;

namespace Dclm.Chat;

/// <summary>
/// A conversation ready for the engine: its token ids, the ids that end the assistant's turn, and what is
/// needed to read the reply (the template used, the tools offered, whether the prompt opened a thinking block).
/// </summary>
public sealed record ChatPrompt(int[] Ids, int[] StopTokenIds, ChatTemplate Template, IReadOnlyList<ToolDefinition>? Tools, bool OpensThinking)
{
    /// <summary>
    /// A reader for one reply: thinking is split off when <paramref name="splitReasoning"/> and the template is
    /// a reasoning model's; calls are taken out when tools were offered.
    /// </summary>
    public ReplyParser CreateParser(bool splitReasoning) => new(
        splitReasoning && Template.Reasons ? new ReasoningSplitter(OpensThinking) : null,
        Tools is null ? null : Template.ToolFormat?.CreateExtractor());
}
