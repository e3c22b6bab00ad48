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

    public int Count => rules.Count;

    public static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    public bool TryGet(int left, int right, [MaybeNullWhen(false)] out MergeResult result)
    {
        return rules.TryGetValue(Key(left, right), out result);
    }
}

/// <summary>The priority (lower merges first) and the token a merge rule produces.</summary>
internal readonly record struct MergeResult(int Rank, int MergedId);
