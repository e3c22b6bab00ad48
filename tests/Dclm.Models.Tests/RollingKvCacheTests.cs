namespace Dclm.Models.Tests;

/// <summary>
/// The rolling KV cache of a sliding-window model: blocks the window passed go back to the pool and are reused, the
/// logits equal a cache that keeps everything, and prefix sharing and rewinding work where the needed window is held
/// and are refused by name where it is not.
/// </summary>
public class RollingKvCacheTests
{
    private const int Window = 6, BlockSize = 2, Vocabulary = 40;
    private static readonly ModelConfig Config = ModelConfig.OpenLm(dim: 32, layers: 2, heads: 2, vocabularySize: Vocabulary, contextLength: 64) with
    {
        SlidingWindow = Window, Positions = PositionEncoding.RotaryAlibi,
    };
    private static readonly int[] Tokens = Enumerable.Range(0, 4 * Window).Select(i => (i * 7 + 3) % Vocabulary).ToArray();

    private static KvCache Cache(bool rolling, int slots = 1, int blocks = 64) => new(Config, slots, 64, BlockSize, blocks, KvCacheType.F32, rolling);

    [Fact]
    public void PassedBlocksReturnToThePoolAndAreReused()
    {
        using var model = SyntheticModel.Create(Config);
        // Two slots decode 4·W tokens each, interleaved, from a pool far smaller than 2 × 4·W / B blocks.
        int bound = (Window - 2) / BlockSize + 3;
        var cache = Cache(rolling: true, slots: 2, blocks: 2 * (bound + 1));
        var full = Cache(rolling: false);
        var expected = new float[Vocabulary];
        var actual = new float[Vocabulary];
        for (int p = 0; p < Tokens.Length; p++)
        {
            model.Forward(ForwardBatch.Sequence([Tokens[p]], p, slot: 0), cache, actual);
            model.Forward(ForwardBatch.Sequence([Tokens[p]], p, slot: 1), cache, actual);
            model.Forward(ForwardBatch.Sequence([Tokens[p]], p), full, expected);
            Assert.Equal(expected, actual);
            Assert.True(cache.HeldBlocks(0) <= bound && cache.HeldBlocks(1) <= bound, $"position {p}: {cache.HeldBlocks(0)} and {cache.HeldBlocks(1)} blocks held");
        }
        Assert.Equal(Tokens.Length / BlockSize, full.UsedBlocks);
        Assert.Equal(cache.HeldBlocks(0) + cache.HeldBlocks(1), cache.UsedBlocks);
        Assert.True(cache.HeldFrom(0) >= Tokens.Length - Window + 1 - 2 * BlockSize);
    }

    [Fact]
    public void AModelWithoutAWindowKeepsEveryBlock()
    {
        var config = Config with { SlidingWindow = 0 };
        using var model = SyntheticModel.Create(config);
        var cache = new KvCache(config, 1, 64, BlockSize, 64, KvCacheType.F32, rolling: true);
        model.Forward(ForwardBatch.Sequence(Tokens, 0), cache, new float[Vocabulary]);
        Assert.Equal(Tokens.Length / BlockSize, cache.UsedBlocks);
        Assert.Equal(0, cache.HeldFrom(0));
    }

    [Fact]
    public void APrefixSharedAtItsEndContinuesLikeAFreshRun()
    {
        // The next chat turn: the new prompt extends everything the finished slot computed.
        using var model = SyntheticModel.Create(Config);
        var cache = Cache(rolling: true, slots: 2);
        int length = 3 * Window;
        model.Forward(ForwardBatch.Sequence(Tokens[..length], 0), cache, new float[Vocabulary]);
        Assert.True(cache.HeldFrom(0) > 0);
        Assert.True(cache.CanResume(0, length));
        cache.CopyPrefix(0, 1, length);
        var shared = new float[Vocabulary];
        model.Forward(ForwardBatch.Sequence(Tokens[length..], length, slot: 1), cache, shared);
        var fresh = new float[Vocabulary];
        model.Forward(ForwardBatch.Sequence(Tokens, 0), Cache(rolling: false), fresh);
        Assert.Equal(fresh, shared);
        // The source slot is untouched by the copy's writes.
        var source = new float[Vocabulary];
        model.Forward(ForwardBatch.Sequence(Tokens[length..], length, slot: 0), cache, source);
        Assert.Equal(fresh, source);
    }

    [Fact]
    public void SharingOrRewindingPastTheHeldWindowIsRefusedByName()
    {
        using var model = SyntheticModel.Create(Config);
        var cache = Cache(rolling: true, slots: 2);
        model.Forward(ForwardBatch.Sequence(Tokens, 0), cache, new float[Vocabulary]);
        int held = cache.HeldFrom(0);
        Assert.False(cache.CanResume(0, Window));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => cache.CopyPrefix(0, 1, Window));
        Assert.Contains($"holds positions from {held} only", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Truncate(0, Window));
        Assert.Equal(Tokens.Length, cache.Length(0));

        // A rewind of up to one block is always possible, and the rewound slot continues like a fresh run.
        int rewound = Tokens.Length - BlockSize;
        cache.Truncate(0, rewound);
        var again = new float[Vocabulary];
        model.Forward(ForwardBatch.Sequence(Tokens[rewound..], rewound), cache, again);
        var fresh = new float[Vocabulary];
        model.Forward(ForwardBatch.Sequence(Tokens, 0), Cache(rolling: false), fresh);
        Assert.Equal(fresh, again);
        cache.Free(0);
        Assert.Equal(0, cache.UsedBlocks);
        Assert.Equal(0, cache.HeldFrom(0));
    }
}
