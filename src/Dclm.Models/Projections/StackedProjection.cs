namespace Dclm.Models.Projections;

/// <summary>
/// Projections of one input whose outputs sit side by side in each output row, [m_0·x | m_1·x | ...]: Q, K and V (or gate
/// and up) whose weights do not lie back to back. Each member runs as its own product into scratch, and its rows are
/// copied into place (one copy of the outputs, against a product over all of the weights).
/// </summary>
public sealed class StackedProjection : Projection
{
    // One member's output at a time, per thread; taken while in use, so a nested stack takes its own.
    [ThreadStatic] private static float[]? scratch;
    private readonly Projection[] _members;

    /// <summary>The members' outputs side by side, in order; they must all read the same input width.</summary>
    public StackedProjection(params Projection[] members) : base(members.Length > 0 ? members[0].Inputs : 0, Widths(members))
    {
        if (members.Any(m => m.Inputs != Inputs)) throw new ArgumentException("stacked projections must read inputs of one width", nameof(members));
        _members = members;
    }

    /// <summary>The members, one per part.</summary>
    public IReadOnlyList<Projection> Members => _members;

    /// <inheritdoc/>
    public override void Apply(ProjectionRows rows, ReadOnlySpan<float> input, Span<float> destination)
    {
        int n = rows.Count, outputs = Outputs;
        if (destination.Length < (long)n * outputs) throw new ArgumentException($"destination holds {destination.Length} values, {n} rows need {(long)n * outputs}", nameof(destination));
        int largest = 0;
        foreach (var member in _members) largest = Math.Max(largest, member.Outputs);
        var buffer = scratch is { } cached && cached.Length >= n * largest ? cached : new float[n * largest];
        scratch = null;
        for (int p = 0; p < _members.Length; p++)
        {
            int width = _members[p].Outputs, offset = PartOffset(p);
            _members[p].Apply(rows, input, buffer);
            for (int r = 0; r < n; r++) buffer.AsSpan(r * width, width).CopyTo(destination.Slice(r * outputs + offset, width));
        }
        scratch = buffer;
    }

    private static int[] Widths(Projection[] members)
    {
        if (members.Length == 0) throw new ArgumentException("a stack needs at least one projection", nameof(members));
        return members.Select(m => m.Outputs).ToArray();
    }
}
