namespace Dclm.Data.Dedup;

/// <summary>
/// BFF's tokens: Unicode word-boundary segments that are not whitespace, so words and each punctuation mark
/// are separate tokens. Case is kept, as in BFF.
/// </summary>
public static class BffTokenizer
{
    /// <summary>Stable hashes of the tokens of <paramref name="text"/>, in order.</summary>
    public static List<ulong> TokenHashes(ReadOnlySpan<char> text)
    {
        var hashes = new List<ulong>();
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (!char.IsLetterOrDigit(c)) { hashes.Add(StableHash.Of(text.Slice(i, 1))); i++; continue; }
            int start = i;
            while (i < text.Length)
            {
                if (char.IsLetterOrDigit(text[i]) || text[i] == '_') { i++; continue; }
                if (i + 1 < text.Length && IsMid(text[i], text[i - 1], text[i + 1])) { i += 2; continue; }
                break;
            }
            hashes.Add(StableHash.Of(text[start..i]));
        }
        return hashes;
    }

    // UAX #29 keeps "don't" and "3.14" as single words (MidLetter / MidNum).
    private static bool IsMid(char mid, char before, char after) =>
        (char.IsLetter(before) && char.IsLetter(after) && mid is '\'' or '\u2019' or '.') ||
        (char.IsDigit(before) && char.IsDigit(after) && mid is '.' or ',');

    /// <summary>Hash of the n-gram <paramref name="tokens"/>[start..start+count).</summary>
    public static ulong NgramHash(List<ulong> tokens, int start, int count)
    {
        ulong hash = (ulong)count;
        for (int i = start; i < start + count; i++) hash = StableHash.Combine(hash, tokens[i]);
        return hash;
    }
}
