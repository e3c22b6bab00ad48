namespace Dclm.Eval.Code;

/// <summary>The unbiased pass@k estimator of Chen et al. (2021), "Evaluating Large Language Models Trained on Code".</summary>
public static class PassAtK
{
    /// <summary>
    /// pass@k = 1 − C(n−c, k) / C(n, k) for n samples of which c passed. Computed as
    /// 1 − Π_{i=n−c+1..n} (1 − k/i), which never forms the (huge) binomials.
    /// </summary>
    public static double Estimate(int samples, int passed, int k)
    {
        if (samples <= 0) throw new ArgumentOutOfRangeException(nameof(samples), "pass@k needs at least one sample");
        if (passed < 0 || passed > samples) throw new ArgumentOutOfRangeException(nameof(passed), $"{passed} passing samples is outside [0, {samples}]");
        if (k <= 0 || k > samples) throw new ArgumentOutOfRangeException(nameof(k), $"k = {k} is outside [1, {samples}]");
        if (samples - passed < k) return 1.0;
        double failAll = 1.0;
        for (int i = samples - passed + 1; i <= samples; i++) failAll *= 1.0 - (double)k / i;
        return 1.0 - failAll;
    }
}
