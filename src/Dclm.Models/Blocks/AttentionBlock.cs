namespace Dclm.Models.Blocks;

/// <summary>
/// The attention half of a block, shared by every architecture: x += Wo · attention(q, k, v), with q|k|v = W_qkv·n(x).
/// An architecture runs its own steps on each token's q, k and v (biases, norms, RoPE) between <see cref="Project"/> and
/// <see cref="Attend"/>, and stores k and v with <see cref="Store"/>.
/// </summary>
internal static class AttentionBlock
{
    /// <summary>q|k|v = W_qkv·n(x) for every token, with n the model's norm of gain <paramref name="normGain"/>.</summary>
    public static QueryKeyValueRows Project(LayerStep step, float[] normGain)
    {
        var projection = step.Projections.QueryKeyValue;
        projection.Apply(step.Rows, step.NormResidual(normGain), step.State.Projected);
        return new QueryKeyValueRows(step.State.Projected, projection.Outputs, step.Config.QueryDim, step.Config.KeyValueDim);
    }

    /// <summary>Token <paramref name="t"/>'s key and value into the cache, at its sequence's slot and its position. (kvd) each</summary>
    public static void Store(LayerStep step, int t, ReadOnlySpan<float> key, ReadOnlySpan<float> value) =>
        step.Cache.Store(step.Layer, step.Batch.Slots[t], step.Batch.Positions[t], key, value);

    /// <summary>
    /// x += Wo · a, a_h = Σ_j softmax_j(q_h·k_j/√headDim + ALiBi) v_j over each token's own sequence's cached positions
    /// (its own key and value already stored).
    /// </summary>
    public static void Attend(LayerStep step, QueryKeyValueRows qkv)
    {
        var s = step.State;
        step.Attention.Run(step.Pool, step.Cache, step.Layer, step.Batch, qkv.Buffer, qkv.Stride, s.Attention);
        step.Projections.Output.Apply(step.Rows, s.Attention, s.BlockOutput);
        step.AddToResidual();
    }
}

/// <summary>
/// Each token's q, k and v inside the output of the Q|K|V projection: token t's row starts at t·<see cref="Stride"/> and
/// holds q (heads·headDim), then k and v (kvHeads·headDim each).
/// </summary>
internal readonly struct QueryKeyValueRows(float[] buffer, int stride, int queryDim, int keyValueDim)
{
    /// <summary>The projection's output. (tokens, stride)</summary>
    public float[] Buffer => buffer;
    /// <summary>Distance between two tokens' rows.</summary>
    public int Stride => stride;

    /// <summary>Token <paramref name="t"/>'s q, k and v, writable in place.</summary>
    public TokenQueryKeyValue this[int t] => new(
        buffer.AsSpan(t * stride, queryDim),
        buffer.AsSpan(t * stride + queryDim, keyValueDim),
        buffer.AsSpan(t * stride + queryDim + keyValueDim, keyValueDim));
}

/// <summary>One token's query (heads·headDim), key and value (kvHeads·headDim each).</summary>
internal readonly ref struct TokenQueryKeyValue
{
    private readonly Span<float> _query, _key, _value;

    public TokenQueryKeyValue(Span<float> query, Span<float> key, Span<float> value)
    {
        _query = query;
        _key = key;
        _value = value;
    }

    public void Deconstruct(out Span<float> query, out Span<float> key, out Span<float> value)
    {
        query = _query;
        key = _key;
        value = _value;
    }
}
