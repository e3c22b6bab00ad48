namespace Dclm.Models;

/// <summary>
/// One forward step over tokens from one or more sequences: prefill chunks and single decode tokens
/// may be mixed. Token i goes to cache slot <see cref="Slots"/>[i] at <see cref="Positions"/>[i].
/// The arrays may be longer than the batch: an engine keeps one batch of its largest step's size and
/// sets <see cref="Count"/> and <see cref="LogitRowCount"/> each step, so a step allocates nothing.
/// </summary>
public sealed class ForwardBatch
{
    private int _count = -1, _logitRowCount = -1;

    /// <summary>Token ids. (capacity ≥ tokens)</summary>
    public required int[] Tokens { get; init; }
    /// <summary>Position of each token in its sequence. (capacity ≥ tokens)</summary>
    public required int[] Positions { get; init; }
    /// <summary>KV-cache slot of each token's sequence. (capacity ≥ tokens)</summary>
    public required int[] Slots { get; init; }
    /// <summary>Indices into <see cref="Tokens"/> whose logits are wanted, in the order rows are returned. (capacity ≥ rows)</summary>
    public required int[] LogitRows { get; init; }

    /// <summary>Number of tokens: the first <see cref="Count"/> entries of the token arrays; all of <see cref="Tokens"/> unless set.</summary>
    public int Count
    {
        get => _count < 0 ? Tokens.Length : _count;
        set
        {
            if ((uint)value > (uint)Tokens.Length || value > Positions.Length || value > Slots.Length)
                throw new ArgumentOutOfRangeException(nameof(value), $"a batch of {value} tokens does not fit arrays of {Tokens.Length}, {Positions.Length} and {Slots.Length}");
            _count = value;
        }
    }

    /// <summary>Number of logit rows: the first <see cref="LogitRowCount"/> entries of <see cref="LogitRows"/>; all of them unless set.</summary>
    public int LogitRowCount
    {
        get => _logitRowCount < 0 ? LogitRows.Length : _logitRowCount;
        set
        {
            if ((uint)value > (uint)LogitRows.Length) throw new ArgumentOutOfRangeException(nameof(value), $"{value} logit rows do not fit an array of {LogitRows.Length}");
            _logitRowCount = value;
        }
    }

    /// <summary>An empty batch with room for <paramref name="tokens"/> tokens and <paramref name="rows"/> logit rows, to fill in place.</summary>
    public static ForwardBatch WithCapacity(int tokens, int rows) => new()
    {
        Tokens = new int[tokens], Positions = new int[tokens], Slots = new int[tokens], LogitRows = new int[rows], Count = 0, LogitRowCount = 0,
    };

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
}
