namespace Dclm.Models;

/// <summary>
/// A batch cut into groups of whole sequences, one per thread, each with about the same number of tokens.
/// A sequence never spans two groups: its tokens in one step attend to each other's keys, which must be
/// stored by the same thread before they are read.
/// </summary>
internal sealed class SequenceGroups
{
    private SequenceGroups(ForwardBatch[] batches, int[][] indices)
    {
        Batches = batches;
        Indices = indices;
    }

    /// <summary>The groups' sub-batches (their <see cref="ForwardBatch.LogitRows"/> are empty).</summary>
    public ForwardBatch[] Batches { get; }

    /// <summary>For each group, the index in the original batch of each of its tokens.</summary>
    public int[][] Indices { get; }

    /// <summary>
    /// Splits <paramref name="batch"/> into <paramref name="groups"/> groups of whole sequences, largest
    /// sequence first onto the lightest group; null when some group would be empty or the heaviest group
    /// would hold more than a quarter above an even share (a long prefill chunk beside a few decode
    /// tokens is faster split by rows).
    /// </summary>
    public static SequenceGroups? TrySplit(ForwardBatch batch, int groups)
    {
        int n = batch.Count;
        if (groups < 2 || n < groups) return null;
        var tokensBySlot = new Dictionary<int, List<int>>();
        for (int i = 0; i < n; i++)
        {
            if (!tokensBySlot.TryGetValue(batch.Slots[i], out var list)) tokensBySlot[batch.Slots[i]] = list = [];
            list.Add(i);
        }
        if (tokensBySlot.Count < groups) return null;

        var members = Enumerable.Range(0, groups).Select(_ => new List<int>()).ToArray();
        // Ties broken by slot, so the same batch always splits the same way.
        foreach (var sequence in tokensBySlot.OrderByDescending(p => p.Value.Count).ThenBy(p => p.Key))
        {
            int lightest = 0;
            for (int g = 1; g < groups; g++)
                if (members[g].Count < members[lightest].Count) lightest = g;
            members[lightest].AddRange(sequence.Value);
        }
        int heaviest = members.Max(m => m.Count);
        if (heaviest * 4 > (n + groups - 1) / groups * 5) return null;

        var indices = new int[groups][];
        var batches = new ForwardBatch[groups];
        for (int g = 0; g < groups; g++)
        {
            // Original order within a group keeps each sequence's tokens in position order.
            members[g].Sort();
            indices[g] = members[g].ToArray();
            batches[g] = new ForwardBatch
            {
                Tokens = indices[g].Select(i => batch.Tokens[i]).ToArray(),
                Positions = indices[g].Select(i => batch.Positions[i]).ToArray(),
                Slots = indices[g].Select(i => batch.Slots[i]).ToArray(),
                LogitRows = [],
            };
        }
        return new SequenceGroups(batches, indices);
    }
}
