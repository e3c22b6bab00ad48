using static Dclm.Models.Tests.LogitDifference;

namespace Dclm.Models.Tests;

/// <summary>Sliding-window attention and ALiBi, both off for DCLM-7B, checked by properties that follow from their definitions.</summary>
public class AttentionOptionTests
{
    private static readonly ModelConfig Tiny = ModelConfig.OpenLm(dim: 64, layers: 1, heads: 4, vocabularySize: 97, contextLength: 64);
    private static readonly int[] Tokens = Enumerable.Range(0, 24).Select(i => (i * 37 + 11) % 97).ToArray();

    [Theory]
    [InlineData(PositionEncoding.Rotary)]
    [InlineData(PositionEncoding.Alibi)]
    public void OneLayerWindowEqualsRunningOnTheWindowAlone(PositionEncoding positions)
    {
        // Both RoPE and ALiBi depend only on i − j, so with one layer a query that sees the last W
        // positions gives what a fresh run on just those W tokens gives at its last position.
        const int window = 6;
        var config = Tiny with { SlidingWindow = window, Positions = positions };
        using var windowed = SyntheticModel.Create(config);
        using var full = SyntheticModel.Create(Tiny with { Positions = positions });
        var all = LastLogits(windowed, Tokens);
        var alone = LastLogits(full, Tokens[^window..]);
        AssertClose(alone, all, 1e-4);
        var unwindowed = LastLogits(full, Tokens);
        Assert.True(MaxRelativeDifference(unwindowed, all) > 1e-3, "the window must change the result when earlier tokens exist");
    }

    [Fact]
    public void WindowAtLeastTheSequenceChangesNothing()
    {
        using var windowed = SyntheticModel.Create(Tiny with { Layers = 2, SlidingWindow = Tokens.Length });
        using var full = SyntheticModel.Create(Tiny with { Layers = 2 });
        Assert.Equal(LastLogits(full, Tokens), LastLogits(windowed, Tokens));
    }

    [Fact]
    public void StackedWindowsIgnoreTokensBeyondTheirReceptiveField()
    {
        // L layers of window W see back at most L·(W−1) positions.
        const int window = 4, layers = 3;
        using var model = SyntheticModel.Create(Tiny with { Layers = layers, SlidingWindow = window });
        var changed = (int[])Tokens.Clone();
        int reach = layers * (window - 1);
        for (int i = 0; i < Tokens.Length - 1 - reach; i++) changed[i] = (changed[i] + 5) % 97;
        Assert.Equal(LastLogits(model, Tokens), LastLogits(model, changed));
        changed[Tokens.Length - 1 - reach] = (changed[Tokens.Length - 1 - reach] + 5) % 97;
        Assert.NotEqual(LastLogits(model, Tokens), LastLogits(model, changed));
    }

    [Fact]
    public void AlibiSlopesAreThePublishedOnes()
    {
        // Press et al.: for 8 heads, 1/2, 1/4, ..., 1/256.
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (float)Math.Pow(2, -i)), AlibiSlopes.For(8));
        // Non-power-of-two: the 4-head slopes, then every other 8-head slope.
        Assert.Equal([0.25f, 0.0625f, 0.015625f, 0.00390625f, 0.5f, 0.125f], AlibiSlopes.For(6));
    }

    [Fact]
    public void AlibiIsNeutralForOneTokenAndActsOnLongerSequences()
    {
        // ALiBi adds −slope·(i − j) to scores and nothing else: with one token the distance is 0, so the
        // model equals one without positions; with more tokens it must differ.
        var config = Tiny with { Positions = PositionEncoding.Alibi };
        using var alibi = SyntheticModel.Create(config);
        using var none = SyntheticModel.Create(Tiny with { Positions = PositionEncoding.None });
        Assert.Equal(LastLogits(none, Tokens[..1]), LastLogits(alibi, Tokens[..1]));
        Assert.True(MaxRelativeDifference(LastLogits(none, Tokens), LastLogits(alibi, Tokens)) > 1e-3);
    }

    private static float[] LastLogits(DecoderModel model, int[] tokens)
    {
        var logits = new float[model.Config.VocabularySize];
        model.Forward(ForwardBatch.Sequence(tokens, 0), model.CreateCache(), logits);
        return logits;
    }

    private static void AssertClose(float[] expected, float[] actual, double tolerance)
    {
        double error = MaxRelativeDifference(expected, actual);
        Assert.True(error <= tolerance, $"relative error {error:E2} > {tolerance:E0}");
    }
}
