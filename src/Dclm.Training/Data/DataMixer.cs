namespace Dclm.Training.Data;

/// <summary>Where the mixer stands: how many windows it has handed out, overall and per source. Saved in checkpoints.</summary>
public sealed record DataCursor(long Samples, long[] SourceSamples);

/// <summary>
/// Hands out training windows under a staged mixing schedule. Which source a sample comes from is a pure
/// function of (seed, sample index), and which window is a pure function of (seed, source, how many that
/// source has given): each source is read in a fresh seeded permutation per epoch. So a saved
/// <see cref="DataCursor"/> restores the exact stream.
/// </summary>
public sealed class DataMixer
{
    private readonly TokenWindows[] _sources;
    private readonly MixingStage[] _stages;
    private readonly double[][] _cumulative;
    private readonly ulong _seed;
    private readonly int _sequence;
    private readonly Dictionary<(int Source, long Epoch), int[]> _permutations = [];

    public DataMixer(IReadOnlyList<TokenWindows> sources, IReadOnlyList<MixingStage> stages, ulong seed)
    {
        if (sources.Count == 0) throw new ArgumentException("training needs at least one data source");
        _sources = sources.ToArray();
        foreach (var s in _sources)
            if (s.Count == 0) throw new ArgumentException($"data source {s.Name} has no full window of {s.WindowLength} tokens for training");
        _sequence = _sources[0].WindowLength - 1;
        _stages = stages.Count > 0 ? stages.ToArray() : [new MixingStage("all", 0, _sources.ToDictionary(s => s.Name, _ => 1.0))];
        _cumulative = _stages.Select(Cumulative).ToArray();
        _seed = seed;
        Cursor = new DataCursor(0, new long[_sources.Length]);
    }

    /// <summary>The position in the stream; assign a saved one to resume.</summary>
    public DataCursor Cursor { get; set; }

    /// <summary>The stage the next sample belongs to.</summary>
    public MixingStage CurrentStage => _stages[StageIndex(Cursor.Samples)];

    /// <summary>Fills (batch, window) tokens with the next <paramref name="batch"/> windows.</summary>
    public void Next(int batch, Span<int> destination)
    {
        int window = _sequence + 1;
        long samples = Cursor.Samples;
        var perSource = (long[])Cursor.SourceSamples.Clone();
        for (int b = 0; b < batch; b++, samples++)
        {
            int stage = StageIndex(samples);
            double u = new DeterministicRandom(Mix(_seed, (ulong)samples, 0x5EED)).NextDouble();
            int source = Array.FindIndex(_cumulative[stage], c => u < c);
            if (source < 0) source = _cumulative[stage].Length - 1;
            long drawn = perSource[source]++;
            var windows = _sources[source];
            long epoch = drawn / windows.Count;
            int index = Permutation(source, epoch)[(int)(drawn % windows.Count)];
            windows[index].CopyTo(destination.Slice(b * window, window));
        }
        Cursor = new DataCursor(samples, perSource);
    }

    private int StageIndex(long samples)
    {
        long tokens = samples * _sequence, end = 0;
        for (int i = 0; i < _stages.Length - 1; i++)
        {
            end += _stages[i].Tokens;
            if (_stages[i].Tokens <= 0 || tokens < end) return i;
        }
        return _stages.Length - 1;
    }

    private double[] Cumulative(MixingStage stage)
    {
        foreach (var name in stage.Weights.Keys)
            if (!_sources.Any(s => s.Name == name)) throw new ArgumentException($"stage {stage.Name} names source '{name}', which is not among the data sources ({string.Join(", ", _sources.Select(s => s.Name))})");
        var weights = _sources.Select(s => stage.Weights.TryGetValue(s.Name, out double w) ? w : 0).ToArray();
        if (weights.Any(w => w < 0 || !double.IsFinite(w)) || weights.Sum() <= 0) throw new ArgumentException($"stage {stage.Name} needs non-negative weights with a positive sum");
        double total = weights.Sum(), running = 0;
        return weights.Select(w => running += w / total).ToArray();
    }

    private int[] Permutation(int source, long epoch)
    {
        if (_permutations.TryGetValue((source, epoch), out var cached)) return cached;
        if (_permutations.Count > 64) _permutations.Clear();
        var order = Enumerable.Range(0, _sources[source].Count).ToArray();
        var random = new DeterministicRandom(Mix(_seed, (ulong)source, (ulong)epoch));
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = (int)(random.NextUInt64() % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return _permutations[(source, epoch)] = order;
    }

    private static ulong Mix(ulong a, ulong b, ulong c) => new DeterministicRandom(a ^ (b * 0x9E3779B97F4A7C15UL) ^ (c * 0xC2B2AE3D27D4EB4FUL)).NextUInt64();
}
