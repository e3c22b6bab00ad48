using System.Text;

namespace Dclm.Data.Dedup;

/// <summary>
/// Exact document dedup: the first document with a given normalized text (lowercased, whitespace runs collapsed)
/// is kept and later copies are dropped. Keys are 128-bit (two independent 64-bit hashes), 16 bytes per document.
/// </summary>
public sealed class ExactDeduplicator
{
    private readonly HashSet<UInt128> _seen = new();

    /// <summary>True when an equal text was seen before; otherwise remembers this one.</summary>
    public bool IsDuplicate(string text) => !_seen.Add(Key(text));

    /// <summary>The 128-bit key of <paramref name="text"/>'s normalized form.</summary>
    public static UInt128 Key(string text)
    {
        var normalized = Normalize(text);
        return new UInt128(StableHash.Of(normalized), StableHash.Combine(0x5bd1e995UL, StableHash.Of(normalized + "\u0001")));
    }

    private static string Normalize(string text)
    {
        var builder = new StringBuilder(text.Length);
        bool space = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c)) { space = builder.Length > 0; continue; }
            if (space) { builder.Append(' '); space = false; }
            builder.Append(char.ToLowerInvariant(c));
        }
        return builder.ToString();
    }
}
