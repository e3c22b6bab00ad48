namespace Dclm.Models;

/// <summary>
/// One forward step over tokens from one or more sequences: prefill chunks and single decode tokens
/// may be mixed. Token i goes to cache slot <see cref="Slots"/>[i] at <see cref="Positions"/>[i].
/// </summary>
public sealed class ForwardBatch
{
    /// <summary>Token ids. (tokens)</summary>
    public required int[] Tokens { get; init; }
    /// <summary>Position of each token in its sequence. (tokens)</summary>
    public required int[] Positions { get; init; }
    /// <summary>KV-cache slot of each token's sequence. (tokens)</summary>
    public required int[] Slots { get; init; }
    /// <summary>Indices into <see cref="Tokens"/> whose logits are wanted, in the order rows are returned.</summary>
    public required int[] LogitRows { get; init; }

    /// <summary>A batch of one sequence: tokens at positions start, start+1, ... in slot <paramref name="slot"/>.</summary>
    public static ForwardBatch Sequence(ReadOnlySpan<int> tokens, int start, int slot = 0, bool allLogits = false)
    {
        int n = tokens.Length;
        var positions = new int[n];
        var slots = new int[n];
        for (int i = 0; i < n; i++) { positions[i] = start + i; slots[i] = slot; }
        int[] rows = allLogits ? Enumerable.Range(0, n).ToArray() : n > 0 ? [n - 1] : [];
        return new ForwardBatch { Tokens = tokens.ToArray(), Positions = positions, Slots = slots, LogitRows = rows };
    }

    /// <summary>Number of tokens.</summary>
    public int Count => Tokens.Length;
}
