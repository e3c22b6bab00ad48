namespace Dclm.Models.Tests;

/// <summary>Several sequences in one forward step give what each gives alone.</summary>
public class BatchedDecodeTests
{
    [Fact]
    public void MixedPrefillAndDecodeAcrossSlotsEqualsSeparateRuns()
    {
        var config = ModelConfig.OpenLm(dim: 64, layers: 2, heads: 4, vocabularySize: 101, contextLength: 64) with { KeyValueHeads = 2, Architecture = Architecture.Llama, Norm = NormKind.RmsNorm, QueryKeyNorm = QueryKeyNorm.None };
        using var model = SyntheticModel.Create(config);
        int[] a = [5, 17, 33, 2, 90, 41, 7], b = [60, 3, 3, 88];
        int v = config.VocabularySize;

        // Alone: each sequence in its own cache.
        float[] AloneLast(int[] tokens)
        {
            var logits = new float[v];
            model.Forward(ForwardBatch.Sequence(tokens, 0), model.CreateCache(), logits);
            return logits;
        }

        // Together: slot 0 has a's first 6 tokens cached; one step decodes a's 7th token and prefills all of b.
        var cache = model.CreateCache(slots: 2);
        model.Forward(ForwardBatch.Sequence(a.AsSpan(0, 6), 0, slot: 0), cache, new float[v]);
        var batch = new ForwardBatch
        {
            Tokens = [a[6], .. b],
            Positions = [6, 0, 1, 2, 3],
            Slots = [0, 1, 1, 1, 1],
            LogitRows = [0, 4],
        };
        var both = new float[2 * v];
        model.Forward(batch, cache, both);
        Assert.Equal(AloneLast(a), both[..v], new ToleranceComparer(1e-5f));
        Assert.Equal(AloneLast(b), both[v..], new ToleranceComparer(1e-5f));
        Assert.Equal(7, cache.Length(0));
        Assert.Equal(4, cache.Length(1));
    }

    [Fact]
    public void CopiedPrefixContinuesLikeTheOriginal()
    {
        var config = ModelConfig.OpenLm(dim: 32, layers: 2, heads: 2, vocabularySize: 60, contextLength: 16);
        using var model = SyntheticModel.Create(config);
        int v = config.VocabularySize;
        int[] context = [4, 8, 15, 16], a = [23, 42], b = [7];
        var cache = model.CreateCache(slots: 3);
        model.Forward(ForwardBatch.Sequence(context, 0, slot: 0), cache, new float[v]);
        cache.CopyPrefix(0, 1, context.Length);
        cache.CopyPrefix(0, 2, context.Length);
        var batch = new ForwardBatch { Tokens = [.. a, .. b], Positions = [4, 5, 4], Slots = [1, 1, 2], LogitRows = [1, 2] };
        var shared = new float[2 * v];
        model.Forward(batch, cache, shared);

        float[] Fresh(int[] continuation)
        {
            var logits = new float[v];
            model.Forward(ForwardBatch.Sequence([.. context, .. continuation], 0), model.CreateCache(), logits);
            return logits;
        }
        Assert.Equal(Fresh(a), shared[..v], new ToleranceComparer(1e-5f));
        Assert.Equal(Fresh(b), shared[v..], new ToleranceComparer(1e-5f));
    }

    [Fact]
    public void TokensMustExtendTheirSequenceInOrder()
    {
        var config = ModelConfig.OpenLm(dim: 32, layers: 1, heads: 2, vocabularySize: 50, contextLength: 16);
        using var model = SyntheticModel.Create(config);
        var cache = model.CreateCache();
        var logits = new float[config.VocabularySize];
        Assert.Throws<ArgumentException>(() => model.Forward(ForwardBatch.Sequence([1, 2], start: 3), cache, logits));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(ForwardBatch.Sequence([1, 50], start: 0), cache, logits));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(ForwardBatch.Sequence(new int[17], start: 0), cache, logits));
        Assert.Equal(0, cache.Length(0));
    }

    private sealed class ToleranceComparer(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance * Math.Max(1, Math.Abs(x));
        public int GetHashCode(float obj) => 0;
    }
}
