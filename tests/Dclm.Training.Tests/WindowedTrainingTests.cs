using Dclm.Checkpoints;
using Dclm.Models;
using Dclm.Tensors.Compute;
using Dclm.Training.Configuration;

namespace Dclm.Training.Tests;

/// <summary>
/// A model trained with a sliding window W, saved and loaded for inference: the training forward, inference over a full
/// cache and inference over a rolling cache (blocks the window passed go back to the pool) agree at every position up
/// to 4·W, and the rolling cache's blocks per sequence stop growing at the window.
/// </summary>
public class WindowedTrainingTests
{
    private const int Window = 8, Positions = 4 * Window, BlockSize = 4;

    [Theory]
    [InlineData("rotary")]
    [InlineData("rotary_alibi")]
    public void TrainedWindowGivesTheSameLogitsWithRollingAndFullCaches(string positions)
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        var options = TrainingFixtures.Tiny(TrainingFixtures.WriteByteTokens(directory, TrainingFixtures.Text), Path.Combine(directory, "run")) with
        {
            Steps = 4, SequenceLength = Positions, SlidingWindow = Window, Positions = positions,
        };
        using var run = TrainingRun.Create(options);
        var result = new Trainer(run).Run();
        int[] tokens = System.Text.Encoding.UTF8.GetBytes(TrainingFixtures.Text)[..Positions].Select(b => (int)b).ToArray();
        int v = run.Model.Config.VocabularySize;
        var training = new float[Positions * v];
        run.Model.Logits(tokens, training);

        using var loaded = ModelLoader.Load(result.FinalModel!, new ComputePool(1));
        Assert.Equal(Window, loaded.Config.SlidingWindow);
        Assert.Equal(PositionEncodingNames.Parse(positions), loaded.Config.Positions);
        var model = loaded.Model;
        int blocks = Positions / BlockSize;
        var full = new KvCache(model.Config, 1, Positions, BlockSize, blocks, KvCacheType.F32, rolling: false);
        var prefilled = new float[Positions * v];
        model.Forward(ForwardBatch.Sequence(tokens, 0, allLogits: true), full, prefilled);
        AssertClose(training, prefilled, "full-cache prefill against the training forward");

        // Token by token, then in chunks of 5 (a chunk spans blocks the window passes within one step).
        foreach (int chunk in new[] { 1, 5 })
        {
            var rolling = new KvCache(model.Config, 1, Positions, BlockSize, blocks, KvCacheType.F32, rolling: true);
            var stepped = new float[Positions * v];
            int mostHeld = 0;
            for (int at = 0; at < Positions; at += chunk)
            {
                int count = Math.Min(chunk, Positions - at);
                model.Forward(ForwardBatch.Sequence(tokens.AsSpan(at, count), at, allLogits: true), rolling, stepped.AsSpan(at * v, count * v));
                mostHeld = Math.Max(mostHeld, rolling.HeldBlocks(0));
                Assert.Equal(rolling.UsedBlocks, rolling.HeldBlocks(0));
            }
            Assert.Equal(prefilled, stepped);
            // Bounded by the window: ⌊(W − 2)/B⌋ + 3 blocks between steps, never the 4·W/B a full cache holds.
            Assert.True(rolling.HeldBlocks(0) <= (Window - 2) / BlockSize + 3, $"chunk {chunk}: {rolling.HeldBlocks(0)} blocks held at the end");
            Assert.True(rolling.HeldFrom(0) > 0, $"chunk {chunk}: no block was returned");
            Assert.True(mostHeld < blocks, $"chunk {chunk}: the rolling cache grew to {mostHeld} blocks");
        }
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < actual.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"{what}: logit {i}: {actual[i]} vs {expected[i]}");
    }
}
