using Dclm.Tensors.Compute;

namespace Dclm.Models.Tests;

/// <summary>Running the layers one group of sequences per thread gives the logits that splitting every product by rows gives.</summary>
public class SequenceParallelLayersTests
{
    [Theory]
    [InlineData(KvCacheType.F32, 2)]
    [InlineData(KvCacheType.F32, 3)]
    [InlineData(KvCacheType.Int8, 2)]
    public void SplittingBySequenceMatchesSplittingByRowsBitForBit(KvCacheType kvType, int threads)
    {
        var config = ModelConfig.OpenLm(dim: 64, layers: 2, heads: 4, vocabularySize: 97, contextLength: 64);
        using var pool = new ComputePool(threads);
        using var model = SyntheticModel.Create(config, pool: pool);
        int v = config.VocabularySize;

        // Five sequences: prefills of different lengths, then steps that mix decode tokens with a
        // second prefill chunk, so groups hold one long sequence or several short ones.
        ForwardBatch[] steps =
        [
            Batch((0, [5, 17, 33, 2, 90, 41]), (1, [60, 3]), (2, [8]), (3, [9, 10, 11]), (4, [12])),
            Batch((0, [7]), (1, [3, 88, 21]), (2, [44]), (3, [45]), (4, [46])),
            Batch((0, [1]), (1, [2]), (2, [3]), (3, [4]), (4, [5])),
        ];
        float[][] Run(LayerParallelism mode)
        {
            model.LayerParallelism = mode;
            var cache = model.CreateCache(slots: 5, type: kvType);
            int[] lengths = new int[5];
            return steps.Select(step =>
            {
                var positioned = Positioned(step, lengths);
                var logits = new float[positioned.LogitRows.Length * v];
                model.Forward(positioned, cache, logits);
                return logits;
            }).ToArray();
        }

        var byRows = Run(LayerParallelism.Rows);
        var bySequences = Run(LayerParallelism.Sequences);
        var automatic = Run(LayerParallelism.Auto);
        for (int i = 0; i < steps.Length; i++)
        {
            Assert.Equal(byRows[i], bySequences[i]);
            Assert.Equal(byRows[i], automatic[i]);
        }
    }

    [Fact]
    public void GroupsKeepSequencesWholeAndBalanced()
    {
        var batch = new ForwardBatch { Tokens = new int[8], Positions = new int[8], Slots = [3, 3, 3, 1, 2, 4, 5, 6], LogitRows = [] };
        var groups = new SequenceGroups();
        Assert.True(groups.TrySplit(batch, 2));
        Assert.Equal(2, groups.Count);
        var indices = Enumerable.Range(0, groups.Count).Select(g => groups.Indices[g][..groups.Batches[g].Count]).ToArray();
        Assert.Equal(Enumerable.Range(0, 8), indices.SelectMany(i => i).Order());
        Assert.All(indices, group => Assert.Equal(4, group.Length));
        // Slot 3's three tokens stay in one group, in their original order, and each group's tokens are the batch's.
        int withSlot3 = Array.FindIndex(indices, group => group.Any(i => batch.Slots[i] == 3));
        Assert.Equal([0, 1, 2], indices[withSlot3].Where(i => batch.Slots[i] == 3));
        for (int g = 0; g < groups.Count; g++)
            Assert.Equal(indices[g].Select(i => batch.Slots[i]), groups.Batches[g].Slots[..groups.Batches[g].Count]);
    }

    [Fact]
    public void UnevenOrTooFewSequencesAreNotSplit()
    {
        ForwardBatch Of(params int[] slots) => new() { Tokens = new int[slots.Length], Positions = new int[slots.Length], Slots = slots, LogitRows = [] };
        // One instance throughout, as the model reuses it: a refused split leaves nothing behind for the next.
        var groups = new SequenceGroups();
        Assert.False(groups.TrySplit(Of(0, 0, 0, 0), 2));               // one sequence
        Assert.False(groups.TrySplit(Of(0, 0, 0, 0, 0, 0, 1, 2), 2));   // a 6-token prefill beside two decodes
        Assert.False(groups.TrySplit(Of(0, 1), 3));                     // fewer tokens than threads
        Assert.True(groups.TrySplit(Of(0, 0, 0, 1, 2, 3), 2));          // 3 + 3
        Assert.Equal([3, 3], groups.Batches.Take(groups.Count).Select(b => b.Count));
    }

    private static ForwardBatch Batch(params (int Slot, int[] Tokens)[] sequences) => new()
    {
        Tokens = sequences.SelectMany(s => s.Tokens).ToArray(),
        Slots = sequences.SelectMany(s => s.Tokens.Select(_ => s.Slot)).ToArray(),
        Positions = new int[sequences.Sum(s => s.Tokens.Length)],
        LogitRows = [],
    };

    /// <summary>The step with each token at its sequence's next position, and logits for every sequence's last token.</summary>
    private static ForwardBatch Positioned(ForwardBatch step, int[] lengths)
    {
        var positions = step.Slots.Select(slot => lengths[slot]++).ToArray();
        var last = Enumerable.Range(0, step.Count).Where(i => i == step.Count - 1 || step.Slots[i + 1] != step.Slots[i]).ToArray();
        return new ForwardBatch { Tokens = step.Tokens, Slots = step.Slots, Positions = positions, LogitRows = last };
    }
}
