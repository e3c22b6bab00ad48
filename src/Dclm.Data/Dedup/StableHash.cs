namespace Dclm.Data.Dedup;

/// <summary>
/// Process-independent 64-bit hashing (FNV-1a over UTF-16 code units, finished with the splitmix64 mixer).
/// <see cref="HashCode"/> is randomized per process, which would make sharded and resumed runs disagree.
/// </summary>
public static class StableHash
{
    /// <summary>Hash of one string.</summary>
    public static ulong Of(ReadOnlySpan<char> text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in text)
        {
            hash ^= c;
            hash *= 1099511628211UL;
        }
        return Mix(hash);
    }

    /// <summary>Order-sensitive combination of two hashes.</summary>
    public static ulong Combine(ulong seed, ulong value) => Mix(seed * 0x9E3779B97F4A7C15UL + value + 0x632BE59BD9B4E019UL);

    /// <summary>The splitmix64 finalizer: a bijective avalanche of all 64 bits.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
