using System.Numerics.Tensors;
using Dclm.Distributed;
using Dclm.Tensors.Compute;
using Dclm.Training.Optimization;

namespace Dclm.Training.Distributed;

/// <summary>
/// Data parallelism over a process group, as the training loops use it: each rank trains on its share of the global
/// batch (<see cref="Share"/>), then <see cref="SumGradients"/> makes every rank's gradients the sum over ranks, so
/// every rank takes the same optimizer step. Sums run in rank order (rank 0's part + rank 1's + ...), never in
/// the network's order, so a run gives the same bits every time. Rank 0 alone writes files (<see cref="IsRoot"/>).
/// With ZeRO-1 (<see cref="ZeroStage"/> 1) each rank keeps AdamW's moments for 1/N of the parameters only: see
/// <see cref="Update"/>.
/// </summary>
public sealed partial class DataParallel
{
    // Values per exchange: 16 MiB of fp32 is sent and received at a time, whatever the model's size.
    private const int BucketValues = 1 << 22;
    private float[] _send = [], _receive = [], _sum = [];

    /// <summary>Data parallelism over <paramref name="group"/>; <paramref name="zeroStage"/> 1 shards the optimizer state.</summary>
    public DataParallel(ICommunicator group, int zeroStage = 0)
    {
        if (zeroStage is not (0 or 1)) throw new ArgumentException($"--zero {zeroStage}: 0 (optimizer state on every rank) or 1 (sharded across ranks)");
        Group = group;
        ZeroStage = zeroStage;
    }

    /// <summary>One process: every operation is the identity.</summary>
    public static DataParallel Single { get; } = new(SingleProcess.Instance);

    /// <summary>The process group.</summary>
    public ICommunicator Group { get; }
    /// <summary>0: every rank holds the whole optimizer state; 1: each holds its 1/N (ZeRO-1).</summary>
    public int ZeroStage { get; }
    /// <summary>Number of ranks N.</summary>
    public int Ranks => Group.Size;
    /// <summary>This process's rank.</summary>
    public int Rank => Group.Rank;
    /// <summary>Whether this rank writes checkpoints, logs and metrics.</summary>
    public bool IsRoot => Group.Rank == 0;

    /// <summary>Sequences per rank of a global batch of <paramref name="globalBatch"/>; refused when N does not divide it.</summary>
    public int LocalBatch(int globalBatch) => globalBatch % Ranks == 0 ? globalBatch / Ranks
        : throw new ArgumentException($"--batch-size {globalBatch} is the global batch and must divide by the {Ranks} ranks (try {Math.Max(Ranks, globalBatch / Ranks * Ranks)} or {(globalBatch / Ranks + 1) * Ranks})");

    /// <summary>This rank's share of <paramref name="data"/>'s batches of <paramref name="globalBatch"/> sequences (refused when N does not divide it).</summary>
    public RankShare Share(ITrainingData data, int globalBatch, int sequence) => new(data, globalBatch, sequence, Rank, LocalBatch(globalBatch));

    /// <summary>Σ over ranks of <paramref name="values"/>, in rank order, into every rank's <paramref name="values"/>.</summary>
    public void Sum(Span<double> values) => RankOrderedSum.Sum(Group, values);

    /// <summary>Whether <paramref name="flag"/> is true on any rank (a Ctrl+C that reached one process stops them all at the same update).</summary>
    public bool Any(bool flag)
    {
        Span<double> value = [flag ? 1 : 0];
        Sum(value);
        return value[0] > 0;
    }

    /// <summary>
    /// Replaces every rank's gradients of <paramref name="tensors"/> by their sum over ranks. A bucket at a time,
    /// each rank receives every rank's copy of its own 1/N of the bucket (all-to-all), sums them in rank order, and
    /// the sums are gathered back to all (all-gather): 2·(N−1)/N of the gradient bytes sent per rank, as a ring all-reduce.
    /// </summary>
    public void SumGradients(IReadOnlyList<ParameterTensor> tensors)
    {
        if (Ranks == 1) return;
        var flat = new FlatParameters(tensors);
        foreach (var bucket in Buckets(flat.Length))
        {
            var sum = SumOwnPart(flat, bucket);
            var all = _send.AsSpan(0, bucket.Part * Ranks);
            Group.AllGather(sum, all);
            flat.Write(bucket.Start, all[..bucket.Length], gradients: true);
        }
    }

    /// <summary>
    /// One exchange of a bucket's gradients: every rank's copy of this rank's part arrives (all-to-all) and is summed in
    /// rank order; returns the sum (the part's length, padded).
    /// </summary>
    private Span<float> SumOwnPart(FlatParameters flat, Bucket bucket)
    {
        int part = bucket.Part, padded = part * Ranks;
        Reserve(padded, part);
        var send = _send.AsSpan(0, padded);
        send[bucket.Length..].Clear();
        flat.Read(bucket.Start, send[..bucket.Length], gradients: true);
        var receive = _receive.AsSpan(0, padded);
        Group.AllToAll(send, receive);
        var sum = _sum.AsSpan(0, part);
        receive[..part].CopyTo(sum);
        for (int r = 1; r < Ranks; r++) TensorPrimitives.Add(sum, receive.Slice(r * part, part), sum);
        return sum;
    }

    /// <summary>A bucket of the flat parameter vector: [Start, Start + Length); rank r owns [Start + r·Part, Start + min((r+1)·Part, Length)).</summary>
    private readonly record struct Bucket(long Start, int Length, int Part)
    {
        public (long Start, int Length) Owned(int rank) =>
            (Start + (long)rank * Part, Math.Clamp(Length - rank * Part, 0, Part));
    }

    private IEnumerable<Bucket> Buckets(long total)
    {
        for (long start = 0; start < total; start += BucketValues)
        {
            int length = (int)Math.Min(BucketValues, total - start);
            yield return new Bucket(start, length, (length + Ranks - 1) / Ranks);
        }
    }

    /// <summary>The items this rank handles of a sequence split round-robin (item i goes to rank i mod N).</summary>
    public IEnumerable<T> Mine<T>(IEnumerable<T> items)
    {
        int i = 0;
        foreach (var item in items)
            if (i++ % Ranks == Rank) yield return item;
    }

    private void Reserve(int padded, int part)
    {
        if (_send.Length < padded) { _send = new float[padded]; _receive = new float[padded]; }
        if (_sum.Length < part) _sum = new float[part];
    }
}
