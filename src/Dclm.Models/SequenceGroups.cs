namespace Dclm.Models;

/// <summary>
/// A batch cut into groups of whole sequences, one per thread, each with about the same number of tokens.
/// A sequence never spans two groups: its tokens in one step attend to each other's keys, which must be
/// stored by the same thread before they are read. One instance is reused step after step; its arrays
/// grow to the largest batch seen and are then filled in place.
/// </summary>
internal sealed class SequenceGroups
{
    // Per distinct slot of the batch, in order of first appearance: the slot, its token count, its group. (sequences)
    private int[] _slots = [], _counts = [], _groupOf = [], _order = [];
    // Tokens per group. (groups)
    private int[] _groupTokens = [];

    /// <summary>Number of groups of the last successful split.</summary>
    public int Count { get; private set; }

    /// <summary>The groups' sub-batches (their <see cref="ForwardBatch.LogitRows"/> are empty); the first <see cref="Count"/> are in use.</summary>
    public ForwardBatch[] Batches { get; private set; } = [];

    /// <summary>For each group, the index in the original batch of each of its tokens (the first <see cref="ForwardBatch.Count"/> of them).</summary>
    public int[][] Indices { get; private set; } = [];

    /// <summary>
    /// Splits <paramref name="batch"/> into <paramref name="groups"/> groups of whole sequences, largest
    /// sequence first onto the lightest group; false when some group would be empty or the heaviest group
    /// would hold more than a quarter above an even share (a long prefill chunk beside a few decode
    /// tokens is faster split by rows).
    /// </summary>
    public bool TrySplit(ForwardBatch batch, int groups)
    {
        int n = batch.Count;
        if (groups < 2 || n < groups) return false;
        Ensure(n, groups);
        int sequences = 0;
        for (int i = 0; i < n; i++)
        {
            int slot = batch.Slots[i], at = 0;
            while (at < sequences && _slots[at] != slot) at++;
            if (at == sequences) (_slots[sequences], _counts[sequences++]) = (slot, 0);
            _counts[at]++;
        }
        if (sequences < groups) return false;

        // Sequences by descending token count, ties by slot, so the same batch always splits the same way.
        for (int k = 0; k < sequences; k++)
        {
            int at = k;
            while (at > 0 && Before(k, _order[at - 1])) { _order[at] = _order[at - 1]; at--; }
            _order[at] = k;
        }
        Array.Clear(_groupTokens, 0, groups);
        foreach (int sequence in _order.AsSpan(0, sequences))
        {
            int lightest = 0;
            for (int g = 1; g < groups; g++)
                if (_groupTokens[g] < _groupTokens[lightest]) lightest = g;
            _groupOf[sequence] = lightest;
            _groupTokens[lightest] += _counts[sequence];
        }
        int heaviest = 0;
        for (int g = 0; g < groups; g++) heaviest = Math.Max(heaviest, _groupTokens[g]);
        if (heaviest * 4 > (n + groups - 1) / groups * 5) return false;

        for (int g = 0; g < groups; g++) Batches[g].Count = 0;
        // Original order within a group keeps each sequence's tokens in position order.
        for (int i = 0; i < n; i++)
        {
            int at = 0;
            while (_slots[at] != batch.Slots[i]) at++;
            var group = Batches[_groupOf[at]];
            int k = group.Count;
            group.Count = k + 1;
            (group.Tokens[k], group.Positions[k], group.Slots[k]) = (batch.Tokens[i], batch.Positions[i], batch.Slots[i]);
            Indices[_groupOf[at]][k] = i;
        }
        Count = groups;
        return true;
    }

    private bool Before(int a, int b) => _counts[a] != _counts[b] ? _counts[a] > _counts[b] : _slots[a] < _slots[b];

    private void Ensure(int tokens, int groups)
    {
        if (_slots.Length < tokens) (_slots, _counts, _groupOf, _order) = (new int[tokens], new int[tokens], new int[tokens], new int[tokens]);
        if (_groupTokens.Length < groups) _groupTokens = new int[groups];
        if (Batches.Length < groups || Batches[0].Tokens.Length < tokens)
        {
            Batches = new ForwardBatch[groups];
            Indices = new int[groups][];
            for (int g = 0; g < groups; g++)
            {
                Batches[g] = ForwardBatch.WithCapacity(tokens, 0);
                Indices[g] = new int[tokens];
            }
        }
    }
}
