using Dclm.Training.Data;

namespace Dclm.Training.FineTuning.Data;

/// <summary>
/// Examples packed into sequences of a fixed length, several documents to a sequence with no attention
/// between them (each document's rows see only its own earlier tokens and start at RoPE position 0). Packing
/// is fixed once from the seed; each epoch visits the packed sequences in a fresh seeded order, so the stream
/// is a pure function of (seed, sequences handed out) and a checkpoint's cursor restores it exactly.
/// </summary>
public sealed class PackedExamples : ITrainingData
{
    private readonly List<(int[] Tokens, bool[] Learned)> _documents = [];
    private readonly List<int[]> _rows = [];
    private readonly int _sequence;
    private readonly ulong _seed;
    private readonly int _padding;
    private long _permutationEpoch = -1;
    private int[] _permutation = [];

    /// <summary>Packs <paramref name="examples"/> into sequences of <paramref name="sequence"/> tokens; <paramref name="padding"/> fills the rest.</summary>
    public PackedExamples(IReadOnlyList<FineTuningExample> examples, int sequence, ulong seed, int padding = 0)
    {
        if (sequence < 2) throw new ArgumentOutOfRangeException(nameof(sequence), "sequences need at least two tokens");
        _sequence = sequence;
        _seed = seed;
        _padding = padding;
        foreach (var example in examples) AddDocuments(example);
        // Documents in a seeded order, then next-fit: a document goes into the current sequence if it fits, else starts a new one.
        var order = Permutation(_documents.Count, new DeterministicRandom(seed ^ 0xFACC));
        var current = new List<int>();
        int used = 0;
        foreach (int d in order)
        {
            int length = _documents[d].Tokens.Length;
            if (used + length > sequence && current.Count > 0) { _rows.Add([.. current]); current.Clear(); used = 0; }
            current.Add(d);
            used += length;
        }
        if (current.Count > 0) _rows.Add([.. current]);
        Cursor = new DataCursor(0, [0]);
    }

    /// <summary>Packed sequences per epoch.</summary>
    public int Count => _rows.Count;
    /// <summary>Documents packed (text longer than a sequence counts once per piece).</summary>
    public int Documents => _documents.Count;
    /// <summary>Examples cut to the sequence length (their tail is not learned).</summary>
    public int Truncated { get; private set; }
    /// <summary>Examples left out because nothing learned remained within the sequence length.</summary>
    public int Dropped { get; private set; }
    /// <summary>Learned targets in one epoch.</summary>
    public long LearnedTokens { get; private set; }
    /// <summary>Token positions in one epoch, padding included.</summary>
    public long Positions => (long)_rows.Count * _sequence;

    public DataCursor Cursor { get; set; }

    public string Stage => $"epoch {Cursor.Samples / Math.Max(1, Count) + 1}";

    private void AddDocuments(FineTuningExample example)
    {
        int length = example.Tokens.Length;
        if (length <= _sequence) { Add(example.Tokens, example.Learned); return; }
        if (example.Format == ExampleFormat.Text)
        {
            // Continued pretraining: a long document becomes consecutive pieces, each learned on everything but its first token.
            for (int start = 0; start < length - 1; start += _sequence)
            {
                int count = Math.Min(_sequence, length - start);
                if (count >= 2) Add(example.Tokens[start..(start + count)], example.Learned[start..(start + count)]);
            }
            return;
        }
        Truncated++;
        Add(example.Tokens[.._sequence], example.Learned[.._sequence]);
    }

    private void Add(int[] tokens, bool[] learned)
    {
        int count = 0;
        for (int i = 1; i < tokens.Length; i++) if (learned[i]) count++;
        if (count == 0) { Dropped++; return; }
        LearnedTokens += count;
        _documents.Add((tokens, learned));
    }

    public void Next(TrainingBatch batch)
    {
        if (Count == 0) throw new InvalidOperationException("no training sequences");
        batch.Rows = batch.Capacity;
        long samples = Cursor.Samples;
        for (int r = 0; r < batch.Capacity; r++, samples++)
        {
            long epoch = samples / Count;
            if (epoch != _permutationEpoch)
            {
                _permutation = Permutation(Count, new DeterministicRandom(_seed ^ (ulong)(epoch + 1) * 0x9E3779B97F4A7C15UL));
                _permutationEpoch = epoch;
            }
            Fill(_permutation[samples % Count], batch, r);
        }
        Cursor = new DataCursor(samples, [samples]);
    }

    /// <summary>
    /// Every packed sequence in order, <paramref name="batchSize"/> at a time (validation). A last, partial batch is
    /// topped up with sequences of padding, which have nothing to learn, so every batch has the training shape.
    /// </summary>
    public IEnumerable<TrainingBatch> Batches(int batchSize)
    {
        var batch = new TrainingBatch(batchSize, _sequence);
        for (int first = 0; first < Count; first += batchSize)
        {
            for (int r = 0; r < batchSize; r++) Fill(first + r < Count ? first + r : -1, batch, r);
            yield return batch;
        }
    }

    /// <summary>Packed sequence <paramref name="row"/> (or padding alone for -1) into slot <paramref name="slot"/> of the batch.</summary>
    private void Fill(int row, TrainingBatch batch, int slot)
    {
        batch.Masked = batch.Packed = true;
        int t = _sequence, offset = 0, first = slot * t;
        foreach (int d in row < 0 ? [] : _rows[row])
        {
            var (tokens, learned) = _documents[d];
            for (int i = 0; i < tokens.Length; i++)
            {
                int p = first + offset + i;
                batch.Inputs[p] = tokens[i];
                bool hasNext = i + 1 < tokens.Length;
                batch.Targets[p] = hasNext ? tokens[i + 1] : -1;
                batch.LossMask[p] = hasNext && learned[i + 1];
                batch.DocumentStarts[p] = offset;
            }
            offset += tokens.Length;
        }
        // Padding: each position a document of its own, with nothing to learn.
        for (; offset < t; offset++)
        {
            int p = first + offset;
            batch.Inputs[p] = _padding;
            batch.Targets[p] = -1;
            batch.LossMask[p] = false;
            batch.DocumentStarts[p] = offset;
        }
    }

    private static int[] Permutation(int count, DeterministicRandom random)
    {
        var order = Enumerable.Range(0, count).ToArray();
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
