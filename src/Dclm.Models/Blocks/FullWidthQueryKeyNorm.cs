using Dclm.Distributed;
using Dclm.Tensors.Ops;

namespace Dclm.Models.Blocks;

/// <summary>
/// open_lm's qk-norm (one per lane: it keeps its buffers): q ← n_q(q) and k ← n_k(k) over the full width of each token's Q (heads·headDim) and K
/// (kvHeads·headDim), with the model's norm. When the heads are split over ranks (tensor parallelism) each rank holds a
/// slice of that width, so the statistics of the whole row are summed over the ranks in rank order: for LayerNorm
/// Σx, then Σ(x − mean)² (the two passes of <see cref="LayerNorm"/>), for RMSNorm Σx²; each rank then normalises its
/// slice with them.
/// </summary>
internal sealed class FullWidthQueryKeyNorm
{
    // Per token: the statistic of its q and of its k. (tokens, 2)
    private double[] _sums = [], _means = [], _scratch = [];

    private delegate double Statistic(ReadOnlySpan<float> x, double center);

    /// <summary>Normalises every token's q and k of <paramref name="qkv"/> in place.</summary>
    public void Apply(LayerStep step, QueryKeyValueRows qkv)
    {
        var w = step.Weights;
        if (step.Shards is not { } shards)
        {
            for (int t = 0; t < step.Count; t++)
            {
                var (q, k, _) = qkv[t];
                step.Norm(q, w.QueryNorm, q);
                step.Norm(k, w.KeyNorm, k);
            }
            return;
        }
        int n = step.Count;
        var c = step.Config;
        double queryWidth = (double)c.QueryDim * shards.Size, keyWidth = (double)c.KeyValueDim * shards.Size;
        if (_sums.Length < 2 * n) (_sums, _means) = (new double[2 * n], new double[2 * n]);
        var sums = _sums.AsSpan(0, 2 * n);
        if (c.Norm == NormKind.RmsNorm)
        {
            Gather(qkv, sums, shards.Group, (x, _) => DoubleSums.SumSquares(x), null);
            for (int t = 0; t < n; t++)
            {
                var (q, k, _) = qkv[t];
                RmsNorm.Apply(q, w.QueryNorm, sums[2 * t] / queryWidth, c.NormEps, q);
                RmsNorm.Apply(k, w.KeyNorm, sums[2 * t + 1] / keyWidth, c.NormEps, k);
            }
            return;
        }
        Gather(qkv, sums, shards.Group, (x, _) => DoubleSums.Sum(x), null);
        var means = _means;
        for (int t = 0; t < n; t++) (means[2 * t], means[2 * t + 1]) = (sums[2 * t] / queryWidth, sums[2 * t + 1] / keyWidth);
        Gather(qkv, sums, shards.Group, DoubleSums.SumSquaredDeviations, means);
        for (int t = 0; t < n; t++)
        {
            var (q, k, _) = qkv[t];
            LayerNorm.Apply(q, w.QueryNorm, means[2 * t], sums[2 * t] / queryWidth, c.NormEps, q);
            LayerNorm.Apply(k, w.KeyNorm, means[2 * t + 1], sums[2 * t + 1] / keyWidth, c.NormEps, k);
        }
    }

    /// <summary>sums[2t], sums[2t + 1] = Σ over ranks of statistic(q_t), statistic(k_t), each with its center from <paramref name="centers"/> (0 without).</summary>
    private void Gather(QueryKeyValueRows qkv, Span<double> sums, ICommunicator group, Statistic statistic, double[]? centers)
    {
        for (int t = 0; t < sums.Length / 2; t++)
        {
            var (q, k, _) = qkv[t];
            sums[2 * t] = statistic(q, centers?[2 * t] ?? 0);
            sums[2 * t + 1] = statistic(k, centers?[2 * t + 1] ?? 0);
        }
        RankOrderedSum.Sum(group, sums, ref _scratch);
    }
}
