using Dclm.Models;

namespace Dclm.Eval.Tests;

/// <summary>
/// The oracle for batched scoring: the same numbers `dclm logits` writes — one fresh forward pass over the
/// whole sequence with every position's logits, no KV reuse — turned into a log-probability in double.
/// </summary>
internal static class DirectScoring
{
    public static float[] AllLogits(DecoderModel model, int[] ids)
    {
        int vocabulary = model.Config.VocabularySize;
        var logits = new float[ids.Length * vocabulary];
        var cache = model.CreateCache(1, ids.Length);
        model.Forward(ForwardBatch.Sequence(ids, 0, allLogits: true), cache, logits);
        return logits;
    }

    public static (double LogProbability, bool Greedy) Continuation(DecoderModel model, int[] context, int[] continuation)
    {
        int[] ids = [.. context, .. continuation];
        var logits = AllLogits(model, ids);
        int vocabulary = model.Config.VocabularySize;
        double sum = 0;
        bool greedy = true;
        for (int i = 0; i < continuation.Length; i++)
        {
            int row = context.Length - 1 + i;
            var z = logits.AsSpan(row * vocabulary, vocabulary);
            double max = double.NegativeInfinity;
            int best = -1;
            for (int v = 0; v < vocabulary; v++) if (z[v] > max) { max = z[v]; best = v; }
            double total = 0;
            for (int v = 0; v < vocabulary; v++) total += Math.Exp(z[v] - max);
            sum += z[continuation[i]] - max - Math.Log(total);
            greedy &= best == continuation[i];
        }
        return (sum, greedy);
    }
}
