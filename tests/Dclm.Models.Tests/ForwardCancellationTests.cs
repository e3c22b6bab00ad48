using Dclm.Models.Projections;
using Dclm.Tensors.Compute;

namespace Dclm.Models.Tests;

/// <summary>
/// A forward step cancelled part-way (between layers) throws at once, and the cache it was writing is left as it was: the
/// next step over the same batch gives what a model that was never interrupted gives.
/// </summary>
public sealed class ForwardCancellationTests
{
    private static readonly ModelConfig Config = ModelConfig.OpenLm(dim: 32, layers: 4, heads: 4, vocabularySize: 61, contextLength: 64);

    /// <summary>Runs the product it wraps, then calls <paramref name="applied"/>: a hook at a known layer of a step.</summary>
    private sealed class Hooked(Projection inner, Action applied) : Projection(inner.Inputs, inner.Parts)
    {
        public override void Apply(ProjectionRows rows, ReadOnlySpan<float> input, Span<float> destination)
        {
            inner.Apply(rows, input, destination);
            applied();
        }
    }

    // Slot 0 decodes its sixth token; slot 1, which shares slot 0's first block, prefills three more of its own.
    private static ForwardBatch Step() => new()
    {
        Tokens = [9, 40, 41, 42], Positions = [5, 3, 4, 5], Slots = [0, 1, 1, 1], LogitRows = [0, 3],
    };

    private static KvCache Prefilled(DecoderModel model)
    {
        var cache = new KvCache(Config, slots: 2, capacity: 32, blockSize: 4, blocks: 16);
        model.Forward(ForwardBatch.Sequence([3, 14, 15, 9, 26], 0), cache, new float[Config.VocabularySize]);
        cache.CopyPrefix(0, 1, 3); // a shared block, which the step's first write to slot 1 must copy
        return cache;
    }

    [Theory]
    [InlineData(LayerParallelism.Rows)]
    [InlineData(LayerParallelism.Sequences)]
    public void ACancelledStepStopsBeforeTheNextLayerAndTheCacheRunsOnAsIfItNeverStarted(LayerParallelism mode)
    {
        using var pool = new ComputePool(2);
        using var model = SyntheticModel.Create(Config, seed: 5, pool: pool);
        using var reference = SyntheticModel.Create(Config, seed: 5, pool: pool);
        model.LayerParallelism = reference.LayerParallelism = mode;
        var cache = Prefilled(model);
        var referenceCache = Prefilled(reference);
        int[] lengths = [cache.Length(0), cache.Length(1)];
        int free = cache.FreeBlocks;

        // The token is cancelled as layer 1's feed-forward product ends (by whichever thread runs it first); layer 2 must
        // never start, on any thread.
        using var cancel = new CancellationTokenSource();
        int laterProducts = 0;
        var layer1 = model.Projections[1].Down;
        var layer2 = model.Projections[2].QueryKeyValue;
        model.Projections[1].Down = new Hooked(layer1, cancel.Cancel);
        model.Projections[2].QueryKeyValue = new Hooked(layer2, () => Interlocked.Increment(ref laterProducts));
        var logits = new float[2 * Config.VocabularySize];
        Assert.ThrowsAny<OperationCanceledException>(() => model.Forward(Step(), cache, logits, cancel.Token));
        Assert.Equal(0, laterProducts);

        // Nothing of the step counts: the same lengths, and of the two blocks the step took only the copy that unshared slot
        // 1's first block is still held (the block for slot 1's positions 4 and 5 went back).
        Assert.Equal(lengths, new[] { cache.Length(0), cache.Length(1) });
        Assert.Equal(free - 1, cache.FreeBlocks);

        model.Projections[1].Down = layer1;
        model.Projections[2].QueryKeyValue = layer2;
        model.Forward(Step(), cache, logits);
        var expected = new float[logits.Length];
        reference.Forward(Step(), referenceCache, expected);
        Assert.Equal(expected, logits);
        Assert.Equal(referenceCache.FreeBlocks, cache.FreeBlocks);
        Assert.Equal(6, cache.Length(0));
        Assert.Equal(6, cache.Length(1));
    }

    [Fact]
    public void ATokenCancelledBeforeTheStepRunsNoLayer()
    {
        using var model = SyntheticModel.Create(Config, seed: 6);
        int products = 0;
        model.Projections[0].QueryKeyValue = new Hooked(model.Projections[0].QueryKeyValue, () => products++);
        var cache = new KvCache(Config, slots: 1, capacity: 16, blockSize: 4, blocks: 4);
        var batch = ForwardBatch.Sequence([1, 2, 3, 4, 5, 6], 0);
        Assert.ThrowsAny<OperationCanceledException>(() => model.Forward(batch, cache, new float[Config.VocabularySize], new CancellationToken(canceled: true)));
        Assert.Equal(0, products);
        Assert.Equal(0, cache.Length(0));
        Assert.Equal(4, cache.FreeBlocks);
    }
}
