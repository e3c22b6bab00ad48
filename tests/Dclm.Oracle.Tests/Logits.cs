using Dclm.Checkpoints;
using Dclm.Inference;
using Dclm.Models;

namespace Dclm.Oracle.Tests;

/// <summary>Runs our model and llama.cpp, and measures how far two sets of logits are apart.</summary>
public static class Logits
{
    /// <summary>
    /// Our logits for the positions <paramref name="rows"/> (every position when null) of <paramref name="tokens"/>,
    /// run as one prefill batch. (rows, vocab)
    /// </summary>
    public static float[] Ours(string modelPath, int[] tokens, int[]? rows = null)
    {
        using var model = ModelLoader.Load(modelPath);
        var cache = model.Model.CreateCache(capacity: tokens.Length);
        var batch = ForwardBatch.Sequence(tokens, 0, allLogits: true);
        if (rows is not null) batch = new ForwardBatch { Tokens = batch.Tokens, Positions = batch.Positions, Slots = batch.Slots, LogitRows = rows };
        var logits = new float[batch.LogitRows.Length * model.Config.VocabularySize];
        model.Model.Forward(batch, cache, logits);
        return logits;
    }

    /// <summary>
    /// Our logits for several prompts run side by side in one KV cache, one slot each, the way a server
    /// batches requests: every step takes a random-length chunk (often a single decode token) from a random
    /// subset of the unfinished prompts, so prefill and decode mix and the slots sit at different positions.
    /// </summary>
    /// <returns>Per prompt, (tokens, vocab).</returns>
    public static float[][] OursInterleaved(string modelPath, int[][] prompts, ulong scheduleSeed)
    {
        using var model = ModelLoader.Load(modelPath);
        int vocabulary = model.Config.VocabularySize;
        var cache = model.Model.CreateCache(slots: prompts.Length, capacity: prompts.Max(p => p.Length));
        var results = prompts.Select(p => new float[p.Length * vocabulary]).ToArray();
        var done = new int[prompts.Length];
        var random = new SplitMix64(scheduleSeed);
        while (done.Where((count, slot) => count < prompts[slot].Length).Any())
        {
            var tokens = new List<int>();
            var positions = new List<int>();
            var slots = new List<int>();
            for (int slot = 0; slot < prompts.Length; slot++)
            {
                int left = prompts[slot].Length - done[slot];
                if (left == 0 || random.NextUInt64() % 4 == 0) continue;
                int chunk = random.NextUInt64() % 2 == 0 ? 1 : 1 + (int)(random.NextUInt64() % 80);
                for (int i = 0; i < Math.Min(chunk, left); i++)
                {
                    tokens.Add(prompts[slot][done[slot] + i]);
                    positions.Add(done[slot] + i);
                    slots.Add(slot);
                }
            }
            if (tokens.Count == 0) continue;
            var batch = new ForwardBatch
            {
                Tokens = tokens.ToArray(),
                Positions = positions.ToArray(),
                Slots = slots.ToArray(),
                LogitRows = Enumerable.Range(0, tokens.Count).ToArray(),
            };
            var logits = new float[tokens.Count * vocabulary];
            model.Model.Forward(batch, cache, logits);
            for (int row = 0; row < tokens.Count; row++)
                logits.AsSpan(row * vocabulary, vocabulary).CopyTo(results[slots[row]].AsSpan(positions[row] * vocabulary, vocabulary));
            foreach (int slot in slots) done[slot]++;
        }
        return results;
    }

    /// <summary>llama.cpp's logits for every position of <paramref name="tokens"/>. (tokens, vocab)</summary>
    public static float[] LlamaCpp(string ggufPath, int[] tokens, int[]? rows = null)
    {
        using var llama = LlamaCppModel.Load(ggufPath, contextSize: Math.Max(512, tokens.Length));
        return llama.Logits(tokens, rows);
    }

    /// <summary>llama.cpp's logits for each prompt, each run alone from position 0.</summary>
    public static float[][] LlamaCpp(string ggufPath, int[][] prompts)
    {
        using var llama = LlamaCppModel.Load(ggufPath);
        return prompts.Select(p => llama.Logits(p)).ToArray();
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

    /// <summary>Number of positions whose highest logit is the same token in both.</summary>
    public static int TopOneMatches(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, int vocabulary)
    {
        Assert.Equal(expected.Length, actual.Length);
        int positions = expected.Length / vocabulary, agree = 0;
        for (int p = 0; p < positions; p++)
            if (ArgMax(actual.Slice(p * vocabulary, vocabulary)) == ArgMax(expected.Slice(p * vocabulary, vocabulary))) agree++;
        return agree;
    }

    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }
}
