namespace Dclm.Training;

/// <summary>
/// One micro-batch: (batch, sequence) inputs and next-token targets, with a loss mask (what is learned) and
/// document starts (packed sequences) when the data has them.
/// </summary>
public sealed class TrainingBatch
{
    public TrainingBatch(int capacity, int sequence)
    {
        Capacity = capacity;
        Rows = capacity;
        Sequence = sequence;
        Inputs = new int[capacity * sequence];
        Targets = new int[capacity * sequence];
        LossMask = new bool[capacity * sequence];
        DocumentStarts = new int[capacity * sequence];
    }

    /// <summary>Sequences the buffers hold.</summary>
    public int Capacity { get; }
    /// <summary>Sequences filled (the last validation batch may hold fewer).</summary>
    public int Rows { get; set; }
    /// <summary>Tokens per sequence.</summary>
    public int Sequence { get; }
    /// <summary>Input tokens. (rows, sequence)</summary>
    public int[] Inputs { get; }
    /// <summary>Each position's next token; negative where there is none. (rows, sequence)</summary>
    public int[] Targets { get; }
    /// <summary>Whether each target counts, when <see cref="Masked"/>. (rows, sequence)</summary>
    public bool[] LossMask { get; }
    /// <summary>Where each position's document starts in its sequence, when <see cref="Packed"/>. (rows, sequence)</summary>
    public int[] DocumentStarts { get; }
    /// <summary>Whether <see cref="LossMask"/> applies.</summary>
    public bool Masked { get; set; }
    /// <summary>Whether <see cref="DocumentStarts"/> applies.</summary>
    public bool Packed { get; set; }

    /// <summary>Forward and backward of this batch through <paramref name="model"/>; cancellation stops it between blocks (see <see cref="TrainingModel.ForwardBackward"/>).</summary>
    public BatchLoss ForwardBackward(TrainingModel model, float zLoss, float lossScale, CancellationToken cancellation = default) =>
        model.ForwardBackward(Inputs, Targets, Rows, Sequence, zLoss, lossScale, Packed ? DocumentStarts : default, Masked ? LossMask : default, cancellation);

    /// <summary>The loss of this batch through <paramref name="model"/>, no gradients.</summary>
    public BatchLoss Evaluate(TrainingModel model, CancellationToken cancellation = default) =>
        model.Evaluate(Inputs, Targets, Rows, Sequence, 0f, Packed ? DocumentStarts : default, Masked ? LossMask : default, cancellation);
}

/// <summary>A stream of training batches that a checkpoint can rewind exactly.</summary>
public interface ITrainingData
{
    /// <summary>Where the stream stands; assign a saved one to resume.</summary>
    Data.DataCursor Cursor { get; set; }
    /// <summary>Name of what the next batch draws from (a mixing stage, or the epoch).</summary>
    string Stage { get; }
    /// <summary>Fills <paramref name="batch"/> with the next sequences.</summary>
    void Next(TrainingBatch batch);
}
