namespace Dclm.Inference.Speculation;

/// <summary>
/// Draft-free speculation (prompt lookup, llama.cpp's <c>lookup</c>): finds the latest earlier place where
/// the sequence's last n tokens occurred, for n from <see cref="NgramSize"/> down to
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
            // Latest match first: recent text predicts what comes next better than old text. A match must end
            // before the suffix starts so at least one token follows it.
            for (int start = history.Length - n - 1; start >= 0; start--)
            {
                if (!history.Slice(start, n).SequenceEqual(suffix)) continue;
                var following = history[(start + n)..];
                int count = Math.Min(destination.Length, following.Length);
                following[..count].CopyTo(destination);
                return count;
            }
        }
        return 0;
    }
}
