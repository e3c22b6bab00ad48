using Dclm.Tokenizers;

namespace Dclm.Training.FineTuning.Data;

/// <summary>
/// Turns a conversation into tokens with a loss mask: the whole conversation rendered with the model's chat
/// template, learned only on the assistants' replies and the marker that ends each reply (so the model learns to
/// stop; a template with no such marker, like the plain "User: ... Assistant: ..." format, gets the end-of-sequence
/// token after the last reply). A reply's span is found by rendering the conversation up to it (which ends with the opening of the
/// reply, as at generation time) and checking the full rendering continues that text; pieces are tokenized one
/// by one, markup with special tokens parsed, content as plain text, as the server encodes a prompt.
/// </summary>
public sealed class ChatExampleBuilder(Tokenizer tokenizer, IChatRenderer renderer)
{
    /// <summary>The example of <paramref name="messages"/>, which must hold an assistant reply to learn.</summary>
    public FineTuningExample Build(IReadOnlyList<ChatMessage> messages, int line)
    {
        int last = -1;
        for (int i = 0; i < messages.Count; i++)
            if (messages[i].Role == "assistant" && messages[i].Learned) last = i;
        if (last < 0) throw new FormatException("messages: no assistant message to learn");
        var full = renderer.Render(messages.Take(last + 1).ToList());
        string text = string.Concat(full.Select(s => s.Text));
        // Learned character spans: each learned reply from the end of its prompt to the end of its end-of-turn marker.
        var spans = new List<(int Start, int End)>();
        bool marked = false;
        for (int i = 0; i <= last; i++)
        {
            if (messages[i].Role != "assistant" || !messages[i].Learned) continue;
            string prompt = string.Concat(renderer.Render(messages.Take(i).ToList()).Select(s => s.Text));
            if (!text.StartsWith(prompt, StringComparison.Ordinal))
                throw new FormatException($"messages[{i}]: the chat template does not render the conversation as a continuation of the prompt before this reply, so the reply cannot be told apart");
            int end;
            (end, marked) = ReplyEnd(full, prompt.Length, i);
            spans.Add((prompt.Length, end));
        }
        var example = Tokenize(full, spans, spans[^1].End, line);
        if (marked || tokenizer.EndOfSequenceId is not int eos) return example;
        return example with { Tokens = [.. example.Tokens, eos], Learned = [.. example.Learned, true] };
    }

    /// <summary>
    /// Where the reply starting at <paramref name="start"/> ends: after its content (the first content piece from
    /// there) and, in the markup that follows, an end-of-turn marker after only spaces, else a newline (a plain
    /// "Assistant: ..." format), else nothing more.
    /// </summary>
    private (int End, bool Marked) ReplyEnd(IReadOnlyList<ChatSegment> segments, int start, int index)
    {
        int offset = 0, contentEnd = -1;
        foreach (var segment in segments)
        {
            int end = offset + segment.Text.Length;
            if (contentEnd < 0 && !segment.IsMarkup && end > start) contentEnd = end;
            else if (contentEnd >= 0 && segment.IsMarkup)
            {
                int skip = 0;
                while (skip < segment.Text.Length && segment.Text[skip] is ' ' or '\t') skip++;
                if (HasMarkerAt(segment.Text, skip, out int length)) return (offset + skip + length, true);
                return (segment.Text.StartsWith('\n') ? offset + 1 : offset, false);
            }
            offset = end;
        }
        if (contentEnd < 0) throw new FormatException($"messages[{index}]: the chat template left out this assistant message's content");
        return (contentEnd, false);
    }

    private bool HasMarkerAt(string text, int at, out int length)
    {
        foreach (var marker in renderer.EndOfTurnMarkers)
            if (marker.Length > 0 && string.CompareOrdinal(text, at, marker, 0, marker.Length) == 0)
            {
                length = marker.Length;
                return true;
            }
        length = 0;
        return false;
    }

    /// <summary>Encodes the segments up to <paramref name="end"/>, split at the span boundaries, marking learned tokens.</summary>
    private FineTuningExample Tokenize(IReadOnlyList<ChatSegment> segments, List<(int Start, int End)> spans, int end, int line)
    {
        var tokens = new List<int>();
        var learned = new List<bool>();
        if (!renderer.WritesBeginningOfSequence)
        {
            tokenizer.AppendSequenceStart(tokens);
            learned.AddRange(Enumerable.Repeat(false, tokens.Count));
        }
        var cuts = spans.SelectMany(s => new[] { s.Start, s.End }).Append(end).Distinct().Order().ToArray();
        int offset = 0;
        var piece = new List<int>();
        foreach (var segment in segments)
        {
            int segmentEnd = offset + segment.Text.Length;
            int from = offset;
            while (from < Math.Min(segmentEnd, end))
            {
                int to = Math.Min(Math.Min(segmentEnd, end), cuts.FirstOrDefault(c => c > from, int.MaxValue));
                bool isLearned = spans.Any(s => from >= s.Start && from < s.End);
                piece.Clear();
                tokenizer.Encode(segment.Text.Substring(from - offset, to - from), piece, parseSpecialTokens: segment.IsMarkup);
                tokens.AddRange(piece);
                learned.AddRange(Enumerable.Repeat(isLearned, piece.Count));
                from = to;
            }
            offset = segmentEnd;
        }
        return new FineTuningExample([.. tokens], [.. learned], line, ExampleFormat.Messages);
    }
}
