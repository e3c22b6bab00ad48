using Dclm.Checkpoints;
using Dclm.TestSupport;

namespace Dclm.Models.Tests;

/// <summary>The int8 KV cache: a quarter of the memory, close to the f32 results, with the same block sharing.</summary>
public class Int8KvCacheTests
{
    [Fact]
    public void FixtureLogitsStayCloseToTheReference()
    {
        var fixture = ReferenceFixture.Load("dclm-tiny");
        using var loaded = ModelLoader.Load(fixture.Directory);
        var model = loaded.Model;
        var logits = new float[fixture.Logits.Length];
        var cache = model.CreateCache(1, 64, KvCacheType.Int8);
        model.Forward(ForwardBatch.Sequence(fixture.Prompt, 0, allLogits: true), cache, logits);
        double error = fixture.RelativeError(logits);
        Assert.True(error > 0, "int8 storage must differ from f32 somewhere, or the cache is not quantizing");
        Assert.True(error < 2e-2, $"relative error {error:E2}");
        int v = fixture.Vocabulary;
        for (int p = 0; p < fixture.Prompt.Length; p++)
            Assert.Equal(ArgMax(fixture.Logits.AsSpan(p * v, v)), ArgMax(logits.AsSpan(p * v, v)));
        Assert.True(cache.ByteSize * 3 < model.CreateCache(1, 64).ByteSize, "int8 keys and values should take about a quarter of the memory");
    }

    [Fact]
    public void SharedInt8PrefixContinuesExactlyLikeAFreshInt8Run()
    {
        var config = ModelConfig.OpenLm(dim: 32, layers: 2, heads: 2, vocabularySize: 40, contextLength: 64);
        using var model = SyntheticModel.Create(config);
        var cache = new KvCache(config, slots: 2, capacity: 64, blockSize: 4, blocks: 8, KvCacheType.Int8);
        int[] prompt = [1, 2, 3, 4, 5, 6];
        model.Forward(ForwardBatch.Sequence(prompt, 0), cache, new float[40]);
        cache.CopyPrefix(0, 1, 6);
        var shared = new float[40];
        model.Forward(ForwardBatch.Sequence([7], 6, slot: 1), cache, shared);
        var fresh = new float[40];
        model.Forward(ForwardBatch.Sequence([.. prompt, 7], 0), model.CreateCache(1, 64, KvCacheType.Int8), fresh);
        Assert.Equal(fresh, shared);
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
