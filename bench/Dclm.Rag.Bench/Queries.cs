namespace Dclm.Rag.Bench;

/// <summary>The benchmark's queries: a sentence of a chunk with a third of its words dropped at random.</summary>
internal static class Queries
{
    /// <summary>A sentence of <paramref name="text"/> (at least 8 words) with a third of its words dropped, or null when it has none.</summary>
    public static string? From(string text, Random random) => Make(text, random)?.Text;

    /// <summary>
    /// As <see cref="From"/> (the same query for the same random state), with where the sentence starts in
    /// <paramref name="text"/> as a fraction of its length.
    /// </summary>
    public static (string Text, double Position)? Make(string text, Random random)
    {
        var sentences = text.Split(['.', '?', '!', '\n'], StringSplitOptions.RemoveEmptyEntries)
            .Select(s => (Raw: s, Words: s.Split(' ', StringSplitOptions.RemoveEmptyEntries))).Where(s => s.Words.Length >= 8).ToList();
        if (sentences.Count == 0) return null;
        var (raw, chosen) = sentences[random.Next(sentences.Count)];
        var words = chosen.ToList();
        int drop = words.Count / 3;
        for (int i = 0; i < drop; i++) words.RemoveAt(random.Next(words.Count));
        return (string.Join(' ', words), Math.Max(0, text.IndexOf(raw, StringComparison.Ordinal)) / (double)text.Length);
    }
}
