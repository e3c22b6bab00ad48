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
        var groups = SequenceGroups.TrySplit(batch, 2)!;
        Assert.Equal(2, groups.Batches.Length);
        Assert.Equal(Enumerable.Range(0, 8), groups.Indices.SelectMany(i => i).Order());
        Assert.All(groups.Indices, indices => Assert.Equal(4, indices.Length));
        // Slot 3's three tokens stay in one group, in their original order.
        var withSlot3 = groups.Batches.Single(b => b.Slots.Contains(3));
        Assert.Equal(3, withSlot3.Slots.Count(s => s == 3));
        var group = groups.Indices[Array.IndexOf(groups.Batches, withSlot3)];
        Assert.Equal([0, 1, 2], group.Where(i => batch.Slots[i] == 3));
    }

    [Fact]
    public void UnevenOrTooFewSequencesAreNotSplit()
    {
        ForwardBatch Of(params int[] slots) => new() { Tokens = new int[slots.Length], Positions = new int[slots.Length], Slots = slots, LogitRows = [] };
        Assert.Null(SequenceGroups.TrySplit(Of(0, 0, 0, 0), 2));               // one sequence
        Assert.Null(SequenceGroups.TrySplit(Of(0, 0, 0, 0, 0, 0, 1, 2), 2));   // a 6-token prefill beside two decodes
        Assert.Null(SequenceGroups.TrySplit(Of(0, 1), 3));                     // fewer tokens than threads
        Assert.NotNull(SequenceGroups.TrySplit(Of(0, 0, 0, 1, 2, 3), 2));       // 3 + 3
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
