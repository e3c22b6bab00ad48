using Dclm.Tensors.Compute;
using Dclm.Training.Optimization;

namespace Dclm.Training.Distributed;

public sealed partial class DataParallel
{
    /// <summary>
    /// Readies <paramref name="optimizer"/> for this group: under ZeRO-1 it keeps the moments of this rank's share
    /// only (1/N of every 16 MiB bucket of the parameters), whatever it restored from a checkpoint before.
    /// </summary>
    public void Prepare(AdamW optimizer)
    {
        if (ZeroStage == 0 || Ranks == 1 || optimizer.IsSharded) return;
        var flat = new FlatParameters(optimizer.Tensors);
        optimizer.Shard(Buckets(flat.Length).SelectMany(b =>
        {
            var (start, length) = b.Owned(Rank);
            return flat.Pieces(start, length);
        }).ToArray());
    }

    /// <summary>
    /// One optimizer update from this rank's gradients; returns the global gradient norm before clipping. Without
    /// sharding: sum the gradients over ranks, clip, step. With ZeRO-1: each rank receives only its share's sum
    /// (reduce-scatter), the norm is summed from the shares, each rank steps its share, and the updated values are
    /// gathered to all (all-gather): the same bytes on the wire as an all-reduce, 1/N of the optimizer state.
    /// </summary>
    public double Update(IReadOnlyList<ParameterTensor> tensors, AdamW optimizer, double gradientClip, double learningRate, ComputePool pool)
    {
        if (!optimizer.IsSharded)
        {
            SumGradients(tensors);
            double norm = GradientClipper.Clip(tensors, gradientClip);
            optimizer.Step(learningRate, pool);
            return norm;
        }
        var flat = new FlatParameters(optimizer.Tensors);
        foreach (var bucket in Buckets(flat.Length))
        {
            var sum = SumOwnPart(flat, bucket);
            var (start, length) = bucket.Owned(Rank);
            flat.Write(start, sum[..length], gradients: true);
        }
        Span<double> squares = [0];
        foreach (var (tensor, offset, count) in optimizer.Segments)
            foreach (float g in optimizer.Tensors[tensor].Gradient.AsSpan(offset, count)) squares[0] += (double)g * g;
        Sum(squares);
        double total = Math.Sqrt(squares[0]);
        if (gradientClip > 0 && total > gradientClip)
            foreach (var (tensor, offset, count) in optimizer.Segments)
            {
                var g = optimizer.Tensors[tensor].Gradient.AsSpan(offset, count);
                System.Numerics.Tensors.TensorPrimitives.Multiply(g, (float)(gradientClip / total), g);
            }
        optimizer.Step(learningRate, pool);
        GatherValues(flat);
        return total;
    }

    /// <summary>
    /// The optimizer as a checkpoint stores it (collective): itself when whole; under ZeRO-1 a whole copy gathered on
    /// rank 0 (null on the others), so a checkpoint resumes on any number of ranks.
    /// </summary>
    public AdamW? Whole(AdamW optimizer)
    {
        if (!optimizer.IsSharded) return optimizer;
        var whole = IsRoot ? new AdamW(optimizer.Tensors, optimizer.Options) { Steps = optimizer.Steps } : null;
        var flat = new FlatParameters(optimizer.Tensors);
        foreach (var (mine, all) in new[] { (optimizer.FirstMoment, whole?.FirstMoment), (optimizer.SecondMoment, whole?.SecondMoment) })
        {
            int segment = 0;
            foreach (var bucket in Buckets(flat.Length))
            {
                Reserve(bucket.Part * Ranks, bucket.Part);
                var own = _sum.AsSpan(0, bucket.Part);
                own.Clear();
                // This rank's segments were cut bucket by bucket, in order: the next ones fill its part of this bucket.
                for (int filled = 0; filled < bucket.Owned(Rank).Length; segment++)
                {
                    mine[segment].CopyTo(own[filled..]);
                    filled += mine[segment].Length;
                }
                var gathered = _send.AsSpan(0, bucket.Part * Ranks);
                Group.AllGather(own, gathered);
                if (all is not null) flat.Write(all, bucket.Start, gathered[..bucket.Length]);
            }
        }
        return whole;
    }

    private void GatherValues(FlatParameters flat)
    {
        foreach (var bucket in Buckets(flat.Length))
        {
            Reserve(bucket.Part * Ranks, bucket.Part);
            var own = _sum.AsSpan(0, bucket.Part);
            own.Clear();
            var (start, length) = bucket.Owned(Rank);
            flat.Read(start, own[..length], gradients: false);
            var gathered = _send.AsSpan(0, bucket.Part * Ranks);
            Group.AllGather(own, gathered);
            flat.Write(bucket.Start, gathered[..bucket.Length], gradients: false);
        }
    }
}
