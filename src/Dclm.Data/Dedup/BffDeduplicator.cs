namespace Dclm.Data.Dedup;

/// <summary>What BFF did to one document.</summary>
/// <param name="Text">Text with duplicate paragraphs removed (not trimmed, as DCLM leaves it); empty when the whole document is a duplicate.</param>
/// <param name="ParagraphsRemoved">Paragraphs dropped as duplicates.</param>
/// <param name="DocumentRemoved">True when the document-level rule removed everything.</param>
public readonly record struct BffResult(string Text, int ParagraphsRemoved, bool DocumentRemoved);

/// <summary>
/// DCLM's BFF deduplication in its "old-both" mode (the one the DCLM paper used): each newline-separated
/// paragraph is cut into n-grams of <c>ngram_size</c> tokens (a paragraph with fewer tokens but at least
/// <c>min_ngram_size</c> becomes one short n-gram). A paragraph whose contained share of n-grams exceeds the
/// threshold is removed; otherwise its n-grams are added to the filter. If the contained share over the whole
/// document exceeds the threshold, the whole document is removed. Documents are processed in order, so the
/// first copy survives.
/// </summary>
/// <remarks>
/// With <paramref name="insertRemovedParagraphs"/> the n-grams of removed paragraphs are inserted too; that
/// variant no longer depends on earlier decisions, so it can be split by n-gram hash across workers
/// (<see cref="PartitionedBff"/>) and gives exactly the same result.
/// </remarks>
public sealed class BffDeduplicator(BloomFilter filter, int ngramSize, int minimumNgramSize, double threshold, bool insertRemovedParagraphs = false)
{
    /// <summary>N-grams inserted so far (with repeats), for the reported false-positive estimate.</summary>
    public long InsertedNgrams { get; private set; }

    /// <summary>The filter being filled.</summary>
    public BloomFilter Filter => filter;

    /// <summary>Deduplicates one document against everything seen before it.</summary>
    public BffResult Process(string text)
    {
        var windows = new List<(int Start, int End)>();
        BffParagraphs.Windows(text, windows);
        var keep = new bool[windows.Count];
        long totalNgrams = 0, totalContained = 0;
        int removed = 0;
        var hashes = new List<ulong>();
        for (int p = 0; p < windows.Count; p++)
        {
            ParagraphNgrams(text.AsSpan(windows[p].Start, windows[p].End - windows[p].Start), hashes, ngramSize, minimumNgramSize);
            int contained = 0;
            foreach (var h in hashes) if (filter.Contains(h)) contained++;
            totalNgrams += hashes.Count;
            totalContained += contained;
            // An empty paragraph compares 0/0 (NaN) with the threshold: never removed, nothing inserted.
            if (hashes.Count > 0 && (double)contained / hashes.Count > threshold)
            {
                removed++;
                if (insertRemovedParagraphs) { foreach (var h in hashes) filter.Add(h); InsertedNgrams += hashes.Count; }
                continue;
            }
            keep[p] = true;
            foreach (var h in hashes) filter.Add(h);
            InsertedNgrams += hashes.Count;
        }
        if (totalNgrams > 0 && (double)totalContained / totalNgrams > threshold) return new BffResult("", removed, true);
        return new BffResult(removed == 0 ? text : BffParagraphs.Join(text, windows, keep), removed, false);
    }

    /// <summary>Counts the n-grams <see cref="Process"/> would insert for <paramref name="text"/>, for sizing the filter.</summary>
    public static long CountNgrams(string text, int ngramSize, int minimumNgramSize)
    {
        long count = 0;
        var tokens = new List<ulong>();
        foreach (var range in text.AsSpan().Split('\n'))
        {
            tokens.Clear();
            BffTokenizer.TokenHashes(text.AsSpan(range), tokens);
            count += tokens.Count >= ngramSize ? tokens.Count - ngramSize + 1 : tokens.Count >= minimumNgramSize ? 1 : 0;
        }
        return count;
    }

    /// <summary>The n-gram hashes of one paragraph, as <see cref="Process"/> computes them.</summary>
    internal static void ParagraphNgrams(ReadOnlySpan<char> paragraph, List<ulong> hashes, int ngramSize, int minimumNgramSize)
    {
        hashes.Clear();
        var tokens = BffTokenizer.TokenHashes(paragraph);
        for (int i = 0; i + ngramSize <= tokens.Count; i++) hashes.Add(BffTokenizer.NgramHash(tokens, i, ngramSize));
        if (hashes.Count == 0 && tokens.Count >= minimumNgramSize) hashes.Add(BffTokenizer.NgramHash(tokens, 0, tokens.Count));
    }
}
