namespace Dclm.Rag.Bench;

/// <summary>The benchmark's queries: a sentence of a chunk with a third of its words dropped at random.</summary>
internal static class Queries
{
    /// <summary>A sentence of <paramref name="text"/> (at least 8 words) with a third of its words dropped, or null when it has none.</summary>
    public static string? From(string text, Random random)
    {
        var sentences = text.Split(['.', '?', '!', '\n'], StringSplitOptions.RemoveEmptyEntries)
            .Select(s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(w => w.Length >= 8).ToList();
        if (sentences.Count == 0) return null;
        var words = sentences[random.Next(sentences.Count)].ToList();
        int drop = words.Count / 3;
        for (int i = 0; i < drop; i++) words.RemoveAt(random.Next(words.Count));
        return string.Join(' ', words);
    }
}
