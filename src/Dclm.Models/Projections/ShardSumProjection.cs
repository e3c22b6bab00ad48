using Dclm.Distributed;

namespace Dclm.Models.Projections;

/// <summary>
/// y = Σ_r W_r·x_r over the ranks of a tensor-parallel group: each rank multiplies its columns of W (W_o or W_down, split
/// by their inputs) by its slice of the input, and one all-reduce adds the partial sums in rank order
/// (<see cref="RankOrderedSum"/>), so every rank holds the same y. Calls are collective: every rank applies the same
/// projection to the same number of rows, one thread at a time.
/// </summary>
public sealed class ShardSumProjection : Projection
{
    private readonly Projection _local;
    private readonly ICommunicator _group;
    private float[] _scratch = [];

    /// <summary>The sum over <paramref name="group"/> of <paramref name="local"/>'s products.</summary>
    public ShardSumProjection(Projection local, ICommunicator group) : base(local.Inputs, local.Parts)
    {
        _local = local;
        _group = group;
    }

    /// <summary>This rank's product, whose outputs are partial sums.</summary>
    public Projection Local => _local;

    /// <inheritdoc/>
    public override void Apply(ProjectionRows rows, ReadOnlySpan<float> input, Span<float> destination)
    {
        _local.Apply(rows, input, destination);
        RankOrderedSum.Sum(_group, destination[..(rows.Count * Outputs)], ref _scratch);
    }
}
