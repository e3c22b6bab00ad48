using Dclm.Checkpoints;
using Dclm.Models;

namespace Dclm.Gpu.Tests;

/// <summary>
/// A cancelled step on the device (ILGPU's CPU accelerator) launches no layer, waits for what it queued, and leaves the
/// cache as it was: the next step over the same batch gives the logits of a cache that never saw the cancelled one.
/// </summary>
public sealed class CancellationOnDeviceTests(CpuAcceleratorFixture accelerator) : IClassFixture<CpuAcceleratorFixture>, IDisposable
{
    private readonly LoadedModel _loaded = ModelLoader.Load(Path.Combine(CpuAcceleratorFixture.Fixtures, "dclm-tiny"));

    public void Dispose() => _loaded.Dispose();

    [Fact]
    public void ACancelledStepLaunchesNoLayerAndTheCacheRunsOnAsIfItNeverStarted()
    {
        using var gpu = new GpuDecoderModel(_loaded.Config, _loaded.Model.Weights, accelerator.Device);
        int vocabulary = gpu.Config.VocabularySize;
        var cache = gpu.CreateCache(2, 64, 8, 16, KvCacheType.F32);
        var untouched = gpu.CreateCache(2, 64, 8, 16, KvCacheType.F32);
        var logits = new float[2 * vocabulary];
        int[] prompt = [11, 200, 7, 31, 99, 4];
        foreach (var c in new[] { cache, untouched }) gpu.Forward(ForwardBatch.Sequence(prompt, 0), c, logits.AsSpan(0, vocabulary));
        // Slot 0 decodes; slot 1 starts a sequence of its own (blocks taken by the step).
        ForwardBatch Step() => new() { Tokens = [5, 8, 9, 10], Positions = [6, 0, 1, 2], Slots = [0, 1, 1, 1], LogitRows = [0, 3] };
        int free = cache.FreeBlocks;
        long launches = gpu.Counter.Launches;

        Assert.ThrowsAny<OperationCanceledException>(() => gpu.Forward(Step(), cache, logits, new CancellationToken(canceled: true)));
        Assert.Equal(launches, gpu.Counter.Launches);
        Assert.Equal(6, cache.Length(0));
        Assert.Equal(0, cache.Length(1));
        Assert.Equal(free, cache.FreeBlocks);

        gpu.Forward(Step(), cache, logits);
        var expected = new float[logits.Length];
        gpu.Forward(Step(), untouched, expected);
        Assert.Equal(expected, logits);
        Assert.Equal(7, cache.Length(0));
        Assert.Equal(3, cache.Length(1));
    }
}
