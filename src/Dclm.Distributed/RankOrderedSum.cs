using System.Numerics.Tensors;

namespace Dclm.Distributed;

/// <summary>
/// All-reduce (sum) built from the collectives <see cref="ICommunicator"/> offers, adding the ranks' values in rank
/// order (rank 0's + rank 1's + ...) so the result never depends on the network's reduction order and every rank ends
/// with the same bits.
/// </summary>
public static class RankOrderedSum
{
    /// <summary>
    /// values ← Σ_r values_r over the ranks of <paramref name="group"/>. Each rank receives every rank's copy of its own
    /// 1/N of the values (all-to-all), sums them in rank order, and the sums are gathered back to all (all-gather):
    /// 2·(N−1)/N of the values sent per rank, as a ring all-reduce. <paramref name="scratch"/> is grown as needed and
    /// kept by the caller between calls.
    /// </summary>
    public static void Sum(ICommunicator group, Span<float> values, ref float[] scratch)
    {
        int ranks = group.Size;
        if (ranks == 1) return;
        int part = (values.Length + ranks - 1) / ranks, padded = part * ranks;
        if (scratch.Length < 2 * padded) scratch = new float[2 * padded];
        var send = scratch.AsSpan(0, padded);
        var receive = scratch.AsSpan(padded, padded);
        values.CopyTo(send);
        send[values.Length..].Clear();
        group.AllToAll(send, receive);
        var sum = receive[..part];
        for (int r = 1; r < ranks; r++) TensorPrimitives.Add(sum, receive.Slice(r * part, part), sum);
        group.AllGather(sum, send);
        send[..values.Length].CopyTo(values);
    }

    /// <summary>values ← Σ_r values_r over the ranks of <paramref name="group"/>, in rank order (an all-gather of every rank's values).</summary>
    public static void Sum(ICommunicator group, Span<double> values)
    {
        double[] scratch = [];
        Sum(group, values, ref scratch);
    }

    /// <summary>As <see cref="Sum(ICommunicator, Span{double})"/>, gathering into <paramref name="scratch"/> (grown as needed, kept by the caller).</summary>
    public static void Sum(ICommunicator group, Span<double> values, ref double[] scratch)
    {
        int ranks = group.Size;
        if (ranks == 1) return;
        if (scratch.Length < values.Length * ranks) scratch = new double[values.Length * ranks];
        var all = scratch.AsSpan(0, values.Length * ranks);
        group.AllGather(values, all);
        all[..values.Length].CopyTo(values);
        for (int r = 1; r < ranks; r++)
            for (int i = 0; i < values.Length; i++) values[i] += all[r * values.Length + i];
    }
}
