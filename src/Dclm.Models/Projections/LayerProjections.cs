namespace Dclm.Models.Projections;

/// <summary>
/// The four matrix products of one decoder layer, built from its weights (<see cref="Projection.FromWeights"/>). Each may be
/// replaced, between forward steps, by a projection of the same shape: an adapter wrapping the one it replaces, or
/// another layout of the same weights. Widths: dim = residual, qd = heads·headDim, kvd = kvHeads·headDim.
/// </summary>
public sealed class LayerProjections
{
    private Projection _queryKeyValue, _output, _gateUp, _down;

    /// <summary>The products of a layer with <paramref name="weights"/>.</summary>
    public LayerProjections(LayerWeights weights)
    {
        _queryKeyValue = Projection.FromWeights(weights.Query, weights.Key, weights.Value);
        _output = Projection.FromWeights(weights.Output);
        _gateUp = Projection.FromWeights(weights.Gate, weights.Up);
        _down = Projection.FromWeights(weights.Down);
    }

    /// <summary>Q|K|V = W_qkv·n(x): parts (qd, kvd, kvd) from (dim).</summary>
    public Projection QueryKeyValue { get => _queryKeyValue; set => _queryKeyValue = Replace(_queryKeyValue, value); }
    /// <summary>Wo·attention: (dim) from (qd).</summary>
    public Projection Output { get => _output; set => _output = Replace(_output, value); }
    /// <summary>gate|up = W_gate|up·n(x): parts (hidden, hidden) from (dim).</summary>
    public Projection GateUp { get => _gateUp; set => _gateUp = Replace(_gateUp, value); }
    /// <summary>W_down·hidden: (dim) from (hidden).</summary>
    public Projection Down { get => _down; set => _down = Replace(_down, value); }

    internal static Projection Replace(Projection current, Projection replacement)
    {
        ArgumentNullException.ThrowIfNull(replacement);
        if (!replacement.HasShapeOf(current)) throw new ArgumentException($"{replacement} cannot replace {current}: inputs or parts differ");
        return replacement;
    }
}
