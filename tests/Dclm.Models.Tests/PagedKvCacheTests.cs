namespace Dclm.Models.Tests;

/// <summary>The block bookkeeping of the paged KV cache: sharing, copy-on-write, freeing and running out.</summary>
public class PagedKvCacheTests
{
    private static readonly ModelConfig Config = ModelConfig.OpenLm(dim: 32, layers: 2, heads: 2, vocabularySize: 40, contextLength: 64);

    [Fact]
    public void SharedPrefixTakesNoBlocksUntilWrittenThenCopiesOnlyTheLastOne()
    {
        using var model = SyntheticModel.Create(Config);
        var cache = new KvCache(Config, slots: 2, capacity: 64, blockSize: 4, blocks: 8);
        int[] prompt = [1, 2, 3, 4, 5, 6];   // 6 positions: blocks [0..3] full, [4..5] partial
        model.Forward(ForwardBatch.Sequence(prompt, 0), cache, new float[40]);
        Assert.Equal(2, cache.UsedBlocks);

        cache.CopyPrefix(0, 1, 6);
        Assert.Equal(2, cache.UsedBlocks);
        Assert.Equal(1, cache.BlocksNeeded(1, 7));   // writing into the shared partial block copies it

        var both = new float[40];
        model.Forward(ForwardBatch.Sequence([7], 6, slot: 1), cache, both);
        Assert.Equal(3, cache.UsedBlocks);

        // Slot 0 is unchanged by slot 1's write, and slot 1 continues exactly like a fresh run.
        var fresh = new float[40];
        model.Forward(ForwardBatch.Sequence([.. prompt, 7], 0), model.CreateCache(), fresh);
        Assert.Equal(fresh, both);
        var zero = new float[40];
        model.Forward(ForwardBatch.Sequence([9], 6, slot: 0), cache, zero);
        var freshZero = new float[40];
        model.Forward(ForwardBatch.Sequence([.. prompt, 9], 0), model.CreateCache(), freshZero);
        Assert.Equal(freshZero, zero);
    }

    [Fact]
    public void FreeingReturnsBlocksOnlyWhenTheLastHolderLetsGo()
    {
        using var model = SyntheticModel.Create(Config);
        var cache = new KvCache(Config, slots: 2, capacity: 64, blockSize: 4, blocks: 8);
        model.Forward(ForwardBatch.Sequence([1, 2, 3, 4, 5], 0), cache, new float[40]);
        cache.CopyPrefix(0, 1, 5);
        cache.Free(0);
        Assert.Equal(2, cache.UsedBlocks);
        cache.Truncate(1, 4);
        Assert.Equal(1, cache.UsedBlocks);
        cache.Free(1);
        Assert.Equal(0, cache.UsedBlocks);
        Assert.Equal(8, cache.FreeBlocks);
    }

    [Fact]
    public void AFullCacheRefusesTheStepAndStaysConsistent()
    {
        using var model = SyntheticModel.Create(Config);
        var cache = new KvCache(Config, slots: 2, capacity: 64, blockSize: 4, blocks: 3);
        model.Forward(ForwardBatch.Sequence([1, 2, 3, 4, 5, 6, 7, 8], 0), cache, new float[40]);
        var error = Assert.Throws<InvalidOperationException>(() => model.Forward(ForwardBatch.Sequence([1, 2, 3, 4, 5], 0, slot: 1), cache, new float[40]));
        Assert.Contains("KV cache is full", error.Message);
        Assert.Equal(0, cache.Length(1));
        Assert.Equal(2, cache.UsedBlocks);
        model.Forward(ForwardBatch.Sequence([1, 2, 3, 4], 0, slot: 1), cache, new float[40]);
        Assert.Equal(3, cache.UsedBlocks);
    }
}
