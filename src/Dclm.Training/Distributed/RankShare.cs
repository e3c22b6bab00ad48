namespace Dclm.Training.Distributed;

/// <summary>
/// This rank's share of a global batch stream: every rank draws the same global batch (so the data cursor, and a
/// checkpoint, are the same whatever the number of ranks) and keeps rows [rank·b, (rank + 1)·b) of it, b = B / N.
/// It also counts the global batch's learned targets, so each rank can weight its loss by its share of them and the
/// sum over ranks is the mean over the whole batch, as in one process.
/// </summary>
public sealed class RankShare : ITrainingData
{
    private readonly ITrainingData _source;
    private readonly TrainingBatch _global;
    private readonly int _rank;

    /// <summary>Shares <paramref name="source"/>'s batches of <paramref name="globalBatch"/> sequences among ranks, <paramref name="localBatch"/> sequences each.</summary>
    internal RankShare(ITrainingData source, int globalBatch, int sequence, int rank, int localBatch)
    {
        _source = source;
        _rank = rank;
        LocalBatch = localBatch;
        _global = new TrainingBatch(globalBatch, sequence);
    }

    /// <summary>Sequences per rank.</summary>
    public int LocalBatch { get; }
    /// <summary>This rank's learned targets over the global batch's, for the last batch drawn (1 when the batch has none).</summary>
    public double TargetShare { get; private set; } = 1;

    public Data.DataCursor Cursor { get => _source.Cursor; set => _source.Cursor = value; }
    public string Stage => _source.Stage;

    public void Next(TrainingBatch batch)
    {
        if (batch.Capacity != LocalBatch || batch.Sequence != _global.Sequence)
            throw new ArgumentException($"a rank's batch holds {LocalBatch} sequences of {_global.Sequence} tokens");
        _source.Next(_global);
        int sequence = _global.Sequence, first = _rank * LocalBatch;
        batch.Rows = Math.Clamp(_global.Rows - first, 0, LocalBatch);
        batch.Masked = _global.Masked;
        batch.Packed = _global.Packed;
        int from = first * sequence, count = batch.Rows * sequence;
        _global.Inputs.AsSpan(from, count).CopyTo(batch.Inputs);
        _global.Targets.AsSpan(from, count).CopyTo(batch.Targets);
        _global.LossMask.AsSpan(from, count).CopyTo(batch.LossMask);
        _global.DocumentStarts.AsSpan(from, count).CopyTo(batch.DocumentStarts);
        long total = Learned(_global, 0, _global.Rows * sequence), mine = Learned(_global, from, count);
        TargetShare = total == 0 ? 0 : (double)mine / total;
    }

    private static long Learned(TrainingBatch batch, int from, int count)
    {
        long learned = 0;
        for (int i = from; i < from + count; i++)
            if (batch.Targets[i] >= 0 && (!batch.Masked || batch.LossMask[i])) learned++;
        return learned;
    }
}
