namespace Dclm.Training.Data;

/// <summary>The pretraining mixer as a batch stream: each window's first T tokens are inputs, its last T targets.</summary>
internal sealed class MixerData(DataMixer mixer) : ITrainingData
{
    private int[] _windows = [];

    public DataCursor Cursor { get => mixer.Cursor; set => mixer.Cursor = value; }

    public string Stage => mixer.CurrentStage.Name;

    public void Next(TrainingBatch batch)
    {
        int window = batch.Sequence + 1;
        if (_windows.Length < batch.Capacity * window) _windows = new int[batch.Capacity * window];
        batch.Rows = batch.Capacity;
        batch.Masked = batch.Packed = false;
        mixer.Next(batch.Capacity, _windows);
        for (int b = 0; b < batch.Capacity; b++) Split(_windows.AsSpan(b * window, window), batch, b);
    }

    /// <summary>Window (T + 1 tokens) into row <paramref name="row"/> of the batch.</summary>
    public static void Split(ReadOnlySpan<int> window, TrainingBatch batch, int row)
    {
        int sequence = batch.Sequence;
        window[..sequence].CopyTo(batch.Inputs.AsSpan(row * sequence, sequence));
        window[1..].CopyTo(batch.Targets.AsSpan(row * sequence, sequence));
    }
}
