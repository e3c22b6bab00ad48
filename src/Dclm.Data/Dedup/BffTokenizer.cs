using Dclm.Data.Text;

namespace Dclm.Data.Dedup;

/// <summary>
/// BFF's tokens (<c>s.split_word_bounds().filter(not_whitespace)</c> in DCLM's Rust): the Unicode word-boundary
/// segments (UAX #29) that are not entirely White_Space, so words, numbers, single punctuation marks and emoji are
/// tokens and spaces are not. Case is kept.
/// </summary>
public static class BffTokenizer
{
    /// <summary>Appends the stable hashes of the tokens of <paramref name="text"/> to <paramref name="hashes"/>.</summary>
    public static void TokenHashes(ReadOnlySpan<char> text, List<ulong> hashes)
    {
        var segments = new WordSegmenter(text);
        while (segments.MoveNext())
        {
            var segment = segments.Current;
            if (segment.IndexOfAnyExcept(WhiteSpace) < 0) continue;
            hashes.Add(StableHash.Of(segment));
        }
    }

    /// <summary>The token hashes of <paramref name="text"/>.</summary>
    public static List<ulong> TokenHashes(ReadOnlySpan<char> text)
    {
        var hashes = new List<ulong>();
        TokenHashes(text, hashes);
        return hashes;
    }

    private static readonly System.Buffers.SearchValues<char> WhiteSpace = System.Buffers.SearchValues.Create(
        "\t\n\v\f\r \u0085\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u2028\u2029\u202F\u205F\u3000");

    /// <summary>Hash of the n-gram <paramref name="tokens"/>[start..start+count).</summary>
    public static ulong NgramHash(List<ulong> tokens, int start, int count)
    {
        ulong hash = (ulong)count;
        for (int i = start; i < start + count; i++) hash = StableHash.Combine(hash, tokens[i]);
        return hash;
    }
}
