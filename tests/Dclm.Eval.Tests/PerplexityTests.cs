using Dclm.Eval.Perplexity;

namespace Dclm.Eval.Tests;

/// <summary>Sliding-window perplexity against per-token log-probabilities from fresh full forward passes.</summary>
public sealed class PerplexityTests : IClassFixture<TinyNeoXModel>
{
    private const string Text = "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse, "
        + "and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world.";
    private readonly TinyNeoXModel _model;

    public PerplexityTests(TinyNeoXModel model) => _model = model;

    /// <summary>Σ −log p(token t | the up-to-window tokens the sliding window gives it), computed one token at a time.</summary>
    private double Oracle(int[] ids, int window, int stride)
    {
        double nll = 0;
        // Mirror the window schedule: windows end at window, window+stride, ...; token t is scored in the
        // first window whose end is past t, with that window's start as its earliest context.
        int end = Math.Min(window, ids.Length), scoredUpTo = 1;
        while (true)
        {
            int begin = Math.Max(0, end - window);
            for (int t = scoredUpTo; t < end; t++)
                nll -= DirectScoring.Continuation(_model.Loaded.Model, ids[begin..t], [ids[t]]).LogProbability;
            scoredUpTo = end;
            if (end == ids.Length) break;
            end = Math.Min(end + stride, ids.Length);
        }
        return nll;
    }

    [Theory]
    [InlineData(512, 256)]
    [InlineData(16, 8)]
    [InlineData(12, 5)]
    public void MatchesPerTokenScoring(int window, int stride)
    {
        var tokenizer = _model.Loaded.RequireTokenizer();
        int[] ids = [tokenizer.EndOfSequenceId!.Value, .. tokenizer.Encode(Text)];
        var result = new PerplexityEvaluator(_model.Loaded.Model, tokenizer).Evaluate(Text, window, stride);
        Assert.Equal(ids.Length - 1, result.Tokens);
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(Text), result.Bytes);
        double expected = Oracle(ids, window, stride);
        Assert.True(Math.Abs(expected - result.NegativeLogLikelihood) < 1e-5 * expected, $"NLL {result.NegativeLogLikelihood}, expected {expected}");
        Assert.Equal(1.0, result.Perplexity / Math.Exp(expected / result.Tokens), 4);
        Assert.Equal(1.0, result.BitsPerByte / (expected / (result.Bytes * Math.Log(2))), 4);
    }

    [Fact]
    public void RejectsBadWindowsAndEmptyText()
    {
        var evaluator = new PerplexityEvaluator(_model.Loaded.Model, _model.Loaded.RequireTokenizer());
        Assert.Throws<ArgumentException>(() => evaluator.Evaluate(Text, window: 1));
        Assert.Throws<ArgumentException>(() => evaluator.Evaluate(Text, window: 10_000));
        Assert.Throws<ArgumentException>(() => evaluator.Evaluate(Text, window: 16, stride: 16));
        Assert.Throws<ArgumentException>(() => evaluator.Evaluate(""));
    }
}
