using Dclm.Data.Dedup;

namespace Dclm.Data.Quality;

/// <summary>
/// fastText-style input features: lowercased whitespace tokens (lines joined with spaces, as DCLM does before
/// calling fastText) and their word bigrams, each hashed into one of <c>buckets</c> rows.
/// </summary>
public static class HashedFeatures
{
    /// <summary>Tokens beyond this are ignored; long pages are judged by their beginning.</summary>
    public const int MaximumTokens = 4096;

    /// <summary>Fills <paramref name="features"/> with the bucket ids of <paramref name="text"/>'s unigrams and bigrams.</summary>
    public static void Extract(string text, int buckets, List<int> features)
    {
        features.Clear();
        ulong previous = 0;
        bool hasPrevious = false;
        int tokens = 0;
        int i = 0;
        var span = text.AsSpan();
        Span<char> lower = stackalloc char[64];
        while (i < span.Length && tokens < MaximumTokens)
        {
            while (i < span.Length && char.IsWhiteSpace(span[i])) i++;
            int start = i;
            while (i < span.Length && !char.IsWhiteSpace(span[i])) i++;
            if (i == start) break;
            var token = span[start..Math.Min(i, start + 64)];
            int length = token.ToLowerInvariant(lower);
            ulong hash = StableHash.Of(lower[..length]);
            features.Add((int)(hash % (ulong)buckets));
            if (hasPrevious) features.Add((int)(StableHash.Combine(previous, hash) % (ulong)buckets));
            previous = hash;
            hasPrevious = true;
            tokens++;
        }
    }
}
