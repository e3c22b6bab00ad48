namespace Dclm.Rag.Documents;

/// <summary>A piece of a document that is indexed and retrieved on its own.</summary>
/// <param name="Source">The document's source (file path or JSONL id).</param>
/// <param name="Number">Its position among the document's chunks, from 0.</param>
/// <param name="Start">First character in the document's text (UTF-16 index).</param>
/// <param name="End">One past its last character.</param>
/// <param name="Text">The characters [Start, End).</param>
public sealed record Chunk(string Source, int Number, int Start, int End, string Text);

/// <summary>
/// Cuts text into chunks of at most a given number of tokens, each starting <c>tokens − overlap</c>
/// tokens after the one before, so text near a cut appears whole in one of the two chunks.
/// </summary>
public static class TokenChunker
{
    /// <summary>The chunks of <paramref name="text"/>, whose tokens span <paramref name="tokenSpans"/> (in order).</summary>
    public static List<Chunk> Split(string source, string text, IReadOnlyList<(int Start, int End)> tokenSpans, int chunkTokens, int overlap)
    {
        if (chunkTokens < 1) throw new ArgumentOutOfRangeException(nameof(chunkTokens), "chunks need at least one token");
        if (overlap < 0 || overlap >= chunkTokens) throw new ArgumentOutOfRangeException(nameof(overlap), $"overlap must lie in [0, {chunkTokens - 1}] for {chunkTokens}-token chunks");
        var chunks = new List<Chunk>();
        int step = chunkTokens - overlap;
        for (int first = 0; first < tokenSpans.Count; first += step)
        {
            int last = Math.Min(first + chunkTokens, tokenSpans.Count) - 1;
            int start = tokenSpans[first].Start, end = tokenSpans[last].End;
            chunks.Add(new Chunk(source, chunks.Count, start, end, text[start..end]));
            if (last == tokenSpans.Count - 1) break;
        }
        return chunks;
    }
}
