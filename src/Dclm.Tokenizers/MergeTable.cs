using System.Diagnostics.CodeAnalysis;

namespace Dclm.Tokenizers;

/// <summary>Merge rules resolved to ids: (left id, right id) → (rank, merged id).</summary>
internal sealed class MergeTable
{
    private readonly Dictionary<long, MergeResult> rules;

    public MergeTable(Dictionary<long, MergeResult> rules)
    {
        this.rules = rules;
    }

    public static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    /// <summary>A dictionary for pair keys that hashes all 64 bits well.</summary>
    public static Dictionary<long, TValue> CreatePairDictionary<TValue>(int capacity) => new(capacity, PairKeyComparer.Instance);

    public bool TryGet(int left, int right, [MaybeNullWhen(false)] out MergeResult result)
    {
        return rules.TryGetValue(Key(left, right), out result);
    }
}

/// <summary>The priority (lower merges first) and the token a merge rule produces.</summary>
internal readonly record struct MergeResult(int Rank, int MergedId);

/// <summary>
/// Hashes a pair key packed into a long. <c>long.GetHashCode</c> XORs the two halves, so the pairs of
/// small ids that merge tables consist of collide massively (every (a, b) with the same a ^ b); a
/// multiplicative (Fibonacci) hash spreads them.
/// </summary>
internal sealed class PairKeyComparer : IEqualityComparer<long>
{
    public static readonly PairKeyComparer Instance = new();

    public bool Equals(long x, long y) => x == y;

    public int GetHashCode(long value) => (int)(((ulong)value * 0x9E3779B97F4A7C15UL) >> 32);
}
