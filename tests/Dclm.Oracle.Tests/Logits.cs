using Dclm.Checkpoints;
using Dclm.Models;

namespace Dclm.Oracle.Tests;

/// <summary>Runs our model and measures how far two sets of logits are apart.</summary>
public static class Logits
{
    /// <summary>Our logits for every position of <paramref name="tokens"/>, run as one prefill batch. (tokens, vocab)</summary>
    public static float[] Ours(string modelPath, int[] tokens)
    {
        using var model = ModelLoader.Load(modelPath);
        var cache = model.Model.CreateCache();
        var logits = new float[tokens.Length * model.Config.VocabularySize];
        model.Model.Forward(ForwardBatch.Sequence(tokens, 0, allLogits: true), cache, logits);
        return logits;
    }

    /// <summary>llama.cpp's logits for every position of <paramref name="tokens"/>. (tokens, vocab)</summary>
    public static float[] LlamaCpp(string ggufPath, int[] tokens)
    {
        using var llama = LlamaCppModel.Load(ggufPath);
        return llama.Logits(tokens);
    }

    /// <summary>max |actual − expected| / max |expected|, the acceptance measure.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxDifference = 0, maxExpected = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            maxDifference = Math.Max(maxDifference, Math.Abs(actual[i] - expected[i]));
            maxExpected = Math.Max(maxExpected, Math.Abs(expected[i]));
        }
        Assert.True(maxExpected > 0, "the expected logits are all zero");
        return maxDifference / maxExpected;
    }

    /// <summary>Fraction of positions whose highest logit is the same token in both.</summary>
    public static double TopOneAgreement(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, int vocabulary)
    {
        Assert.Equal(expected.Length, actual.Length);
        int positions = expected.Length / vocabulary, agree = 0;
        for (int p = 0; p < positions; p++)
            if (ArgMax(actual.Slice(p * vocabulary, vocabulary)) == ArgMax(expected.Slice(p * vocabulary, vocabulary))) agree++;
        return (double)agree / positions;
    }

    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }
}
