using Dclm.Chat.Tools;

namespace Dclm.Chat.Replies;

/// <summary>What a piece of a streamed reply adds to each part: thinking, and text shown as the answer.</summary>
public readonly record struct ReplyPiece(string Reasoning, string Content);

/// <summary>The end of a reply: its last pieces, the function calls read from it, and whether a call failed to parse.</summary>
public readonly record struct ReplyEnd(string Reasoning, string Content, IReadOnlyList<ToolCall> Calls, bool MalformedCall);

/// <summary>
/// Reads one assistant reply as it streams: thinking first (when the model reasons), then the answer, whose
/// function calls (when tools were offered) are taken out. Either reader may be absent.
/// </summary>
public sealed class ReplyParser(ReasoningSplitter? reasoning, ToolCallExtractor? tools)
{
    /// <summary>Whether the reply is read at all; without reasoning or tools every piece is answer text.</summary>
    public bool IsActive => reasoning is not null || tools is not null;

    /// <summary>Takes the next piece of the reply.</summary>
    public ReplyPiece Push(string piece)
    {
        var (thinking, content) = reasoning?.Push(piece) ?? ("", piece);
        return new ReplyPiece(thinking, tools is null ? content : tools.Push(content));
    }

    /// <summary>The end of the reply.</summary>
    public ReplyEnd Finish()
    {
        var (thinking, content) = reasoning?.Finish() ?? ("", "");
        if (tools is null) return new ReplyEnd(thinking, content, [], false);
        string text = tools.Push(content);
        var (rest, calls) = tools.Finish();
        return new ReplyEnd(thinking, text + rest, calls, tools.Malformed);
    }

    /// <summary>A whole reply read at once.</summary>
    public ReplyEnd Parse(string reply)
    {
        var piece = Push(reply);
        var end = Finish();
        return end with { Reasoning = piece.Reasoning + end.Reasoning, Content = piece.Content + end.Content };
    }
}
