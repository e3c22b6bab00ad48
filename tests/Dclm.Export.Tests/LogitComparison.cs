namespace Dclm.Export.Tests;

/// <summary>How far two sets of logits (rows, vocab) are apart.</summary>
public static class LogitComparison
{
    /// <summary>
    /// The largest, over rows, of max_v |actual − expected| / max_v |expected|: the error relative to the row's own
    /// scale (logits near zero make an element-wise ratio meaningless).
    /// </summary>
    public static double MaxRelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, int vocabulary)
    {
        if (actual.Length != expected.Length) throw new ArgumentException($"{actual.Length} logits against {expected.Length}");
        double worst = 0;
        for (int row = 0; row < expected.Length / vocabulary; row++)
        {
            var a = actual.Slice(row * vocabulary, vocabulary);
            var e = expected.Slice(row * vocabulary, vocabulary);
            double difference = 0, scale = 0;
            for (int v = 0; v < vocabulary; v++)
            {
                if (!float.IsFinite(a[v])) return double.PositiveInfinity;
                difference = Math.Max(difference, Math.Abs(a[v] - e[v]));
                scale = Math.Max(scale, Math.Abs(e[v]));
            }
            worst = Math.Max(worst, difference / scale);
        }
        return worst;
    }

    /// <summary>Share of rows whose largest logit is at the same index.</summary>
    public static double TopOneAgreement(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, int vocabulary)
    {
        int rows = expected.Length / vocabulary, same = 0;
        for (int row = 0; row < rows; row++)
            if (ArgMax(actual.Slice(row * vocabulary, vocabulary)) == ArgMax(expected.Slice(row * vocabulary, vocabulary))) same++;
        return (double)same / rows;
    }

    /// <summary>Mean over rows of KL(p_expected ‖ p_actual) in nats, p = softmax of the row.</summary>
    public static double MeanKullbackLeibler(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, int vocabulary)
    {
        int rows = expected.Length / vocabulary;
        double total = 0;
        for (int row = 0; row < rows; row++)
        {
            var p = LogSoftmax(expected.Slice(row * vocabulary, vocabulary));
            var q = LogSoftmax(actual.Slice(row * vocabulary, vocabulary));
            for (int v = 0; v < vocabulary; v++) total += Math.Exp(p[v]) * (p[v] - q[v]);
        }
        return total / rows;
    }

    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int v = 1; v < row.Length; v++) if (row[v] > row[best]) best = v;
        return best;
    }

    private static double[] LogSoftmax(ReadOnlySpan<float> row)
    {
        double max = double.NegativeInfinity;
        foreach (float x in row) max = Math.Max(max, x);
        double sum = 0;
        foreach (float x in row) sum += Math.Exp(x - max);
        double log = max + Math.Log(sum);
        var result = new double[row.Length];
        for (int v = 0; v < row.Length; v++) result[v] = row[v] - log;
        return result;
    }
}
