namespace Dclm.Inference.Speculation;

/// <summary>
/// Draft-free speculation (prompt lookup, llama.cpp's <c>lookup</c>): finds an earlier place where the
/// sequence's last n tokens occurred (the latest one with a full draft after it), for n from <see cref="NgramSize"/> down to
/// <see cref="MinNgramSize"/>, and proposes the tokens that followed it there. It pays off where output
/// repeats its input: code being edited, a document being summarised or quoted, structured records.
/// </summary>
public sealed class PromptLookupDraft : IDraftSource
{
    /// <summary>A lookup matching the last <paramref name="ngramSize"/> tokens, then shorter ones down to <paramref name="minNgramSize"/>.</summary>
    public PromptLookupDraft(int ngramSize, int minNgramSize = 1)
    {
        if (ngramSize < 1) throw new ArgumentOutOfRangeException(nameof(ngramSize), $"the n-gram size is {ngramSize}; it must be at least 1");
        if (minNgramSize < 1 || minNgramSize > ngramSize)
            throw new ArgumentOutOfRangeException(nameof(minNgramSize), $"the smallest n-gram size is {minNgramSize}; it must be in [1, {ngramSize}]");
        NgramSize = ngramSize;
        MinNgramSize = minNgramSize;
    }

    /// <summary>Longest suffix matched.</summary>
    public int NgramSize { get; }
    /// <summary>Shortest suffix matched before giving up.</summary>
    public int MinNgramSize { get; }

    /// <inheritdoc/>
    public int Draft(ReadOnlySpan<int> history, Span<int> destination)
    {
        if (destination.IsEmpty) return 0;
        for (int n = Math.Min(NgramSize, history.Length - 1); n >= MinNgramSize; n--)
        {
            var suffix = history[^n..];
            // The latest match that still has a full draft after it: recent text predicts what comes next
            // best. In a loop the latest match sits right behind the suffix with a token or two after it, so
            // failing a full one, the match with the most tokens after it (the earliest) is taken.
            int full = history.Length - n - destination.Length;
            for (int start = full; start >= 0; start--)
                if (history.Slice(start, n).SequenceEqual(suffix)) return Copy(history[(start + n)..], destination);
            for (int start = Math.Max(0, full + 1); start < history.Length - n; start++)
                if (history.Slice(start, n).SequenceEqual(suffix)) return Copy(history[(start + n)..], destination);
        }
        return 0;
    }

    private static int Copy(ReadOnlySpan<int> following, Span<int> destination)
    {
        int count = Math.Min(destination.Length, following.Length);
        following[..count].CopyTo(destination);
        return count;
    }
}
