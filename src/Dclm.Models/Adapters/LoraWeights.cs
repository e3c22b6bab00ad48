namespace Dclm.Models.Adapters;

/// <summary>
/// One adapter's low-rank update of one target projection of one block: W ← W + s·B·A, with A (rank, inputs),
/// B (rows, rank) and s the scale (α / r, or α / √r for rank-stabilised adapters). Rows are in the base's own row
/// order (for a llama.cpp llama file, its permuted Q and K rows). The slices of one fused PEFT module (open_lm's
/// in_proj holding q|k|v) share one A array.
/// </summary>
public sealed class LoraUpdate
{
    /// <summary>An update of <paramref name="target"/> of block <paramref name="layer"/> by <paramref name="scale"/>·B·A.</summary>
    public LoraUpdate(int layer, LoraTarget target, float[] a, float[] b, int rank, float scale)
    {
        if (rank <= 0) throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} must be positive");
        if (a.Length == 0 || a.Length % rank != 0) throw new ArgumentException($"A holds {a.Length} values, not a multiple of rank {rank}", nameof(a));
        if (b.Length == 0 || b.Length % rank != 0) throw new ArgumentException($"B holds {b.Length} values, not a multiple of rank {rank}", nameof(b));
        Layer = layer;
        Target = target;
        A = a;
        B = b;
        Rank = rank;
        Inputs = a.Length / rank;
        Rows = b.Length / rank;
        Scale = scale;
    }

    /// <summary>The block.</summary>
    public int Layer { get; }
    /// <summary>The projection of the block.</summary>
    public LoraTarget Target { get; }
    /// <summary>The down projection. (rank, inputs)</summary>
    public float[] A { get; }
    /// <summary>The up projection. (rows, rank)</summary>
    public float[] B { get; }
    /// <summary>r.</summary>
    public int Rank { get; }
    /// <summary>Width of the projection's input.</summary>
    public int Inputs { get; }
    /// <summary>Output rows of the projection.</summary>
    public int Rows { get; }
    /// <summary>s.</summary>
    public float Scale { get; }

    /// <summary>values += s·Σ_k B[row, k]·A[k, :], row <paramref name="row"/> of s·B·A added to a row of W.</summary>
    public void AddRowTo(int row, Span<float> values)
    {
        for (int k = 0; k < Rank; k++)
        {
            float coefficient = Scale * B[row * Rank + k];
            if (coefficient != 0) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(A.AsSpan(k * Inputs, Inputs), coefficient, values, values);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"layers.{Layer}.{LoraTargets.Name(Target)} rank {Rank}";
}

/// <summary>
/// One LoRA adapter as inference sees it: updates on some projections of some blocks of a model of <see cref="Config"/>,
/// frozen, in float. Shapes are checked against the config when it is made.
/// </summary>
public sealed class LoraWeights
{
    private readonly Dictionary<(int Layer, LoraTarget Target), List<LoraUpdate>> _byTarget = [];

    /// <summary>The adapter of <paramref name="updates"/> for a model of <paramref name="config"/>; a target may carry several.</summary>
    public LoraWeights(ModelConfig config, IEnumerable<LoraUpdate> updates)
    {
        Config = config;
        var all = new List<LoraUpdate>();
        foreach (var update in updates)
        {
            if ((uint)update.Layer >= (uint)config.Layers) throw new ArgumentException($"an update of layer {update.Layer} does not fit a model of {config.Layers} layers");
            var (rows, columns) = LoraTargets.Shape(update.Target, config);
            if (update.Rows != rows || update.Inputs != columns)
                throw new ArgumentException($"{update} is {update.Rows} × {update.Inputs}; the model's {LoraTargets.Name(update.Target)} is {rows} × {columns}");
            if (!_byTarget.TryGetValue((update.Layer, update.Target), out var list)) _byTarget[(update.Layer, update.Target)] = list = [];
            list.Add(update);
            all.Add(update);
        }
        if (all.Count == 0) throw new ArgumentException("an adapter needs at least one update");
        Updates = all;
    }

    /// <summary>The model the adapter fits.</summary>
    public ModelConfig Config { get; }
    /// <summary>Every update, in the order given.</summary>
    public IReadOnlyList<LoraUpdate> Updates { get; }

    /// <summary>The updates of <paramref name="target"/> of block <paramref name="layer"/> (usually one or none).</summary>
    public IReadOnlyList<LoraUpdate> For(int layer, LoraTarget target) => _byTarget.TryGetValue((layer, target), out var list) ? list : [];

    /// <summary>The projections the adapter changes, e.g. "q,k,v,o,gate,up,down".</summary>
    public string TargetNames => string.Join(",", Updates.Select(u => u.Target).Distinct().Order().Select(LoraTargets.Name));
}
