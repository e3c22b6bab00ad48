using Dclm.Tensors;

namespace Dclm.Models.Projections;

/// <summary>
/// One matrix product of the forward pass: for each row x of a batch, y = W·x, with W of (<see cref="Outputs"/>,
/// <see cref="Inputs"/>) and its output rows possibly several products side by side (<see cref="Parts"/>: Q|K|V,
/// gate|up). Every product <see cref="DecoderModel"/> runs (the four of each layer, <see cref="LayerProjections"/>, and the
/// output head) goes through this type, so what changes a product attaches here and not in the blocks:
/// <list type="bullet">
/// <item><description>An adapter wraps a projection and adds to what it writes. LoRA adds, per row r,
/// y_r += s_a · B_a·(A_a·x_r), with A_a (rank, <see cref="Inputs"/>) and B_a (width of the part it adapts, rank), where a is
/// the adapter of row r's sequence (<see cref="ProjectionRows.Slot"/>): one batch may mix sequences with different adapters,
/// or none (S-LoRA). An adapter of one part (q_proj of a fused Q|K|V) adds into that part's columns,
/// [<see cref="PartOffset"/>(p), + <see cref="Parts"/>[p]).</description></item>
/// <item><description>Another weight layout or kernel is another subclass: <see cref="MatrixProjection"/> multiplies a
/// <see cref="WeightMatrix"/> as stored, <see cref="StackedProjection"/> runs parts whose weights lie apart; a repacked
/// layout copies its matrix once at construction and runs its own kernel.</description></item>
/// <item><description>A backend that runs the whole forward pass elsewhere (ONNX, a GPU) does not use projections: it reads
/// the architecture from <see cref="ModelConfig"/> (<see cref="Architecture"/>, norms, positions) and the
/// tensors from <see cref="ModelWeights"/>.</description></item>
/// </list>
/// The same projection serves every thread that runs a group of sequences (<see cref="LayerParallelism.Sequences"/>), so it
/// keeps no per-call state in fields.
/// </summary>
public abstract class Projection
{
    private readonly int[] _parts;
    private readonly int[] _offsets;

    /// <summary>A projection from <paramref name="inputs"/> values to output rows made of <paramref name="parts"/> side by side.</summary>
    protected Projection(int inputs, params ReadOnlySpan<int> parts)
    {
        if (inputs < 0) throw new ArgumentOutOfRangeException(nameof(inputs), "a projection needs a non-negative input width");
        if (parts.IsEmpty) throw new ArgumentException("a projection has at least one part", nameof(parts));
        _parts = parts.ToArray();
        _offsets = new int[_parts.Length];
        long outputs = 0;
        for (int p = 0; p < _parts.Length; p++)
        {
            if (_parts[p] < 0) throw new ArgumentOutOfRangeException(nameof(parts), "part widths must be non-negative");
            _offsets[p] = (int)outputs;
            outputs += _parts[p];
        }
        if (outputs > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(parts), "the parts are wider than an output row can be");
        Inputs = inputs;
        Outputs = (int)outputs;
    }

    /// <summary>Width of an input row: the columns of W.</summary>
    public int Inputs { get; }
    /// <summary>Width of an output row: the rows of W, the sum of <see cref="Parts"/>.</summary>
    public int Outputs { get; }
    /// <summary>Widths of the products side by side in an output row, e.g. (heads·headDim, kvHeads·headDim, kvHeads·headDim) for Q|K|V.</summary>
    public ReadOnlySpan<int> Parts => _parts;

    /// <summary>Where part <paramref name="part"/> starts in an output row.</summary>
    public int PartOffset(int part) => _offsets[part];

    /// <summary>
    /// destination[r, o] = Σ_i W[o, i] · input[r, i] for every row r of <paramref name="rows"/>: input is (rows, Inputs) and
    /// destination (rows, Outputs), both row-major and contiguous.
    /// </summary>
    public abstract void Apply(ProjectionRows rows, ReadOnlySpan<float> input, Span<float> destination);

    /// <summary>True when <paramref name="other"/> has the same input width and parts, so it can stand in for this one.</summary>
    public bool HasShapeOf(Projection other) => Inputs == other.Inputs && Parts.SequenceEqual(other.Parts);

    /// <summary>
    /// The projection of weights stored as <paramref name="parts"/> (rows of W, top to bottom): one product when they lie
    /// back to back in memory (open_lm's in_proj and w12, a GGUF file's Q, K, V written in order, weights copied into
    /// memory), else one product per part. This is where a layout is chosen for the weights as loaded.
    /// </summary>
    public static Projection FromWeights(params ReadOnlySpan<WeightMatrix> parts)
    {
        if (parts.IsEmpty) throw new ArgumentException("a projection needs at least one weight matrix", nameof(parts));
        var widths = new int[parts.Length];
        for (int p = 0; p < parts.Length; p++) widths[p] = parts[p].Rows;
        if (parts.Length == 1) return new MatrixProjection(parts[0]);
        if (WeightMatrix.Adjacent(parts) is { } joined) return new MatrixProjection(joined, widths);
        var members = new Projection[parts.Length];
        for (int p = 0; p < parts.Length; p++) members[p] = new MatrixProjection(parts[p]);
        return new StackedProjection(members);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{GetType().Name}({Inputs} → {string.Join(" | ", _parts)})";
}
