using Dclm.Tensors;
using Dclm.Tensors.Compute;

namespace Dclm.Models.Projections;

/// <summary>
/// y = W·x with W one <see cref="WeightMatrix"/> as stored (any type <see cref="MatMul"/> multiplies), its rows split over
/// the pool's threads; a matrix of several parts is their rows back to back (a fused Q|K|V).
/// </summary>
public sealed class MatrixProjection : Projection
{
    /// <summary>A projection by <paramref name="weight"/>, whose rows are <paramref name="parts"/> (one part of all its rows when none are given).</summary>
    public MatrixProjection(WeightMatrix weight, params ReadOnlySpan<int> parts) : base(weight.Columns, parts.IsEmpty ? [weight.Rows] : parts)
    {
        if (Outputs != weight.Rows) throw new ArgumentException($"parts {string.Join(" + ", Parts.ToArray())} do not add up to the matrix's {weight.Rows} rows", nameof(parts));
        Weight = weight;
    }

    /// <summary>The weights, (outputs, inputs).</summary>
    public WeightMatrix Weight { get; }

    /// <inheritdoc/>
    public override void Apply(ProjectionRows rows, ReadOnlySpan<float> input, Span<float> destination) =>
        MatMul.Multiply(input, rows.Count, Weight, destination, rows.Pool);
}
