using Dclm.Models.Projections;

namespace Dclm.Models.Adapters;

/// <summary>
/// A projection with LoRA adapters served per sequence (S-LoRA): after the wrapped product, each row r whose sequence uses
/// adapter a gets y_r[part] += s·B·(A·x_r) for every update a has on the parts of this product; rows of sequences on the
/// bare base (adapter 0) are left as the product wrote them, bit for bit. Which adapter a sequence uses is
/// <see cref="AdapterSet.AdapterOf"/> of its slot, set between steps. The update's sums run in <see cref="LowRankMath"/>'s
/// fixed order, which the GPU backend's adapter kernel follows.
/// </summary>
internal sealed class AdapterProjection : Projection
{
    /// <summary>One update as this projection runs it: A (rank, inputs) and Bᵀ (rank, part width) so both products are row sweeps.</summary>
    private sealed record Update(int Part, float[] A, float[] BTransposed, int Rank, float Scale);

    /// <summary>[adapter id] → its updates on this product (none for the base, id 0, and for adapters that leave it alone).</summary>
    private sealed record Table(Update[][] ByAdapter, int LargestRank);

    private readonly AdapterSet _set;
    private readonly LoraTarget[] _targets;
    // Replaced whole when an adapter is added, so a step running on another thread reads one consistent table.
    private volatile Table _table = new([[]], 0);

    public AdapterProjection(Projection inner, AdapterSet set, LoraTarget[] targets) : base(inner.Inputs, inner.Parts)
    {
        if (targets.Length != inner.Parts.Length) throw new ArgumentException($"{inner} has {inner.Parts.Length} parts, not {targets.Length}");
        Inner = inner;
        _set = set;
        _targets = targets;
    }

    /// <summary>The product the adapters add to.</summary>
    public Projection Inner { get; }

    /// <summary>Makes adapter <paramref name="id"/> (the next id) add <paramref name="adapter"/>'s updates of this product's parts.</summary>
    public void Add(int id, int layer, LoraWeights adapter)
    {
        var updates = Updates(layer, adapter);
        var current = _table;
        if (id != current.ByAdapter.Length) throw new InvalidOperationException($"adapter {id} added out of order (next is {current.ByAdapter.Length})");
        _table = new Table([.. current.ByAdapter, [.. updates]], Math.Max(current.LargestRank, updates.Count == 0 ? 0 : updates.Max(u => u.Rank)));
    }

    /// <summary>Rebuilds adapter <paramref name="id"/>'s updates from <paramref name="adapter"/>'s current values (a trainer's adapter after an update).</summary>
    public void Refresh(int id, int layer, LoraWeights adapter)
    {
        var updates = Updates(layer, adapter);
        var current = _table;
        var byAdapter = (Update[][])current.ByAdapter.Clone();
        byAdapter[id] = [.. updates];
        _table = new Table(byAdapter, Math.Max(current.LargestRank, updates.Count == 0 ? 0 : updates.Max(u => u.Rank)));
    }

    private List<Update> Updates(int layer, LoraWeights adapter)
    {
        var updates = new List<Update>();
        for (int part = 0; part < _targets.Length; part++)
            foreach (var u in adapter.For(layer, _targets[part]))
            {
                var transposed = new float[u.Rank * u.Rows];
                for (int row = 0; row < u.Rows; row++)
                    for (int k = 0; k < u.Rank; k++) transposed[k * u.Rows + row] = u.B[row * u.Rank + k];
                updates.Add(new Update(part, u.A, transposed, u.Rank, u.Scale));
            }
        return updates;
    }

    public override void Apply(ProjectionRows rows, ReadOnlySpan<float> input, Span<float> destination)
    {
        Inner.Apply(rows, input, destination);
        var (table, largest) = _table;
        if (largest == 0) return;
        Span<float> down = largest <= 256 ? stackalloc float[largest] : new float[largest];
        for (int r = 0; r < rows.Count; r++)
        {
            int id = _set.AdapterOf(rows.Slot(r));
            if (id <= 0 || id >= table.Length || table[id].Length == 0) continue;
            var x = input.Slice(r * Inputs, Inputs);
            var y = destination.Slice(r * Outputs, Outputs);
            foreach (var u in table[id])
                LowRankMath.AddUpdate(u.A, u.BTransposed, u.Rank, u.Scale, x, down, y.Slice(PartOffset(u.Part), Parts[u.Part]));
        }
    }
}
