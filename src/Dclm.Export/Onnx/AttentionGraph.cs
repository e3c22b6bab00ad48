using Dclm.Models;
using DataType = Dclm.Formats.Onnx.TensorProto.Types.DataType;

namespace Dclm.Export.Onnx;

/// <summary>
/// The attention half of the exported graph and what every layer's attention shares, made once per graph from the
/// inputs: each token's position, which keys each query may see, and the RoPE angles. Shapes: B batch, S new
/// tokens, P past tokens, T = P + S, H query heads, Hk key/value heads, G = H/Hk, hd head width.
/// </summary>
/// <remarks>
/// Positions come from <c>attention_mask</c> (B, T) as Hugging Face derives <c>position_ids</c>: a key's position is
/// the number of unmasked tokens before it, so left-padded rows start at 0. Query i sees key j when the key is not
/// padding and lies at most as far forward (and, with a sliding window, fewer than window positions back), exactly
/// the keys the engine's <c>CausalAttention</c> reads from its cache.
/// </remarks>
internal sealed class AttentionGraph
{
    private readonly OnnxGraph _g;
    private readonly ModelConfig _c;
    private readonly DataType _type;
    private readonly string _inputShape, _queryPositions, _visible;
    private readonly string? _alibiBias;
    private readonly Dictionary<string, (string Cos, string Sin)> _angles = new(StringComparer.Ordinal);
    private readonly Dictionary<int, string> _headShapes = [];

    /// <summary>Makes the shared pieces from <paramref name="inputIds"/> (B, S) and <paramref name="attentionMask"/> (B, T).</summary>
    public AttentionGraph(OnnxGraph g, ModelConfig config, DataType type, string inputIds, string attentionMask)
    {
        (_g, _c, _type) = (g, config, type);
        g.Scope = "/model/attn_mask";
        _inputShape = g.Op("Shape", inputIds);                                                            // (2) = [B, S]
        var sequenceLength = g.Op("Slice", _inputShape, g.Int64s(1), g.Int64s(2));                          // (1) = [S]
        // position of key j = Σ_{j' ≤ j} mask[j'] − 1
        var keyPositions = g.Op("Sub", g.Op("CumSum", attentionMask, g.Int64Scalar(1)), g.Int64s(1));       // (B, T)
        _queryPositions = g.Op("Slice", keyPositions, g.Op("Neg", sequenceLength), g.Int64s(long.MaxValue), g.Int64s(1)); // (B, S)
        // distance[b, i, j] = position of query i − position of key j
        var distance = g.Op("Sub", Unsqueeze(_queryPositions, 2), Unsqueeze(keyPositions, 1));             // (B, S, T)
        var visible = g.Op("And", g.Op("GreaterOrEqual", distance, g.Int64s(0)), g.Op("Equal", Unsqueeze(attentionMask, 1), g.Int64s(1)));
        if (config.SlidingWindow > 0) visible = g.Op("And", visible, g.Op("Less", distance, g.Int64s(config.SlidingWindow)));
        _visible = Unsqueeze(visible, 1, 2);                                                               // (B, 1, 1, S, T)
        if (config.UsesAlibi)
        {
            // bias[b, kv, g, i, j] = −slope_(kv·G+g) · distance[b, i, j]
            var slopes = g.Floats("/model/attn_mask/alibi_slopes", AlibiSlopes.For(config.Heads).Select(s => -s).ToArray(), DataType.Float);
            var perHead = g.Op("Reshape", slopes, g.Int64s(1, config.KeyValueHeads, config.Heads / config.KeyValueHeads, 1, 1));
            var bias = g.Op("Mul", perHead, Unsqueeze(g.Op("Cast", [distance], NodeAttribute.Int("to", (long)DataType.Float)), 1, 2));
            _alibiBias = CastTo(bias, type);                                                               // (B, Hk, G, S, T)
        }
    }

    /// <summary>(B, S, heads, hd) as a Reshape target, made once per head count.</summary>
    public string HeadShape(int heads)
    {
        if (!_headShapes.TryGetValue(heads, out var shape))
            _headShapes[heads] = shape = _g.Op("Concat", [_inputShape, _g.Int64s(heads, _c.HeadDim)], NodeAttribute.Int("axis", 0));
        return shape;
    }

    /// <summary>(B, S, width) as a Reshape target.</summary>
    public string SequenceShape(int width) => _g.Op("Concat", [_inputShape, _g.Int64s(width)], NodeAttribute.Int("axis", 0));

    /// <summary>
    /// x (B, S, heads, hd) rotated by each token's position, halves paired (dimension i with i + hd/2):
    /// (a, b) → (a·cos θ − b·sin θ, a·sin θ + b·cos θ), θ = position · <paramref name="inverseFrequency"/>[i].
    /// </summary>
    public string Rope(string x, float[] inverseFrequency)
    {
        var (cos, sin) = Angles(inverseFrequency);
        int half = _c.HeadDim / 2;
        var halves = _g.Node("Split", [x, _g.Int64s(half, half)], 2, [NodeAttribute.Int("axis", -1)]);
        string a = halves[0], b = halves[1];
        var first = _g.Op("Sub", _g.Op("Mul", a, cos), _g.Op("Mul", b, sin));
        var second = _g.Op("Add", _g.Op("Mul", a, sin), _g.Op("Mul", b, cos));
        return _g.Op("Concat", [first, second], NodeAttribute.Int("axis", -1));
    }

    /// <summary>
    /// Attention of layer <paramref name="layer"/>: appends the new keys and values (B, S, Hk, hd) to the past ones,
    /// making the outputs present.{layer}.key/value (B, Hk, T, hd), and returns
    /// out_h = Σ_j softmax_j(q_h·k_j/√hd [+ ALiBi]) v_j over the visible keys as (B·S, H·hd).
    /// </summary>
    public string Attend(int layer, string query, string key, string value)
    {
        int kvHeads = _c.KeyValueHeads, group = _c.Heads / kvHeads, headDim = _c.HeadDim;
        var presentKey = _g.Node("Concat", [$"past_key_values.{layer}.key", Transpose(key, 0, 2, 1, 3)], 1, [NodeAttribute.Int("axis", 2)], outputNames: [$"present.{layer}.key"])[0];
        var presentValue = _g.Node("Concat", [$"past_key_values.{layer}.value", Transpose(value, 0, 2, 1, 3)], 1, [NodeAttribute.Int("axis", 2)], outputNames: [$"present.{layer}.value"])[0];

        // Query head h = kv·G + g reads key/value head kv: queries as (B, Hk, G, S, hd) against keys (B, Hk, 1, hd, T).
        var scaled = _g.Op("Mul", query, _g.Scalar(1f / MathF.Sqrt(headDim), _type));
        var grouped = Transpose(_g.Op("Reshape", scaled, _g.Int64s(0, 0, kvHeads, group, headDim)), 0, 2, 3, 1, 4);
        var scores = _g.Op("MatMul", grouped, Unsqueeze(Transpose(presentKey, 0, 1, 3, 2), 2));       // (B, Hk, G, S, T)
        if (_alibiBias is not null) scores = _g.Op("Add", scores, _alibiBias);
        scores = _g.Op("Where", _visible, scores, _g.Scalar(_type == DataType.Float16 ? (float)Half.MinValue : float.MinValue, _type));
        var weights = _g.Op("Softmax", [scores], NodeAttribute.Int("axis", -1));
        var heads = _g.Op("MatMul", weights, Unsqueeze(presentValue, 2));                               // (B, Hk, G, S, hd)
        return _g.Op("Reshape", Transpose(heads, 0, 3, 1, 2, 4), _g.Int64s(-1, _c.QueryDim));          // (B·S, H·hd)
    }

    /// <summary>cos θ and sin θ, (B, S, 1, hd/2), made once per distinct set of frequencies.</summary>
    private (string Cos, string Sin) Angles(float[] inverseFrequency)
    {
        string key = string.Join(',', inverseFrequency.Select(f => BitConverter.SingleToInt32Bits(f)));
        if (_angles.TryGetValue(key, out var angles)) return angles;
        string scope = _g.Scope;
        _g.Scope = "/model/rotary_emb";
        var frequencies = _g.Floats($"/model/rotary_emb/inv_freq_{_angles.Count}", inverseFrequency, DataType.Float);
        var positions = _g.Op("Cast", [Unsqueeze(_queryPositions, 2)], NodeAttribute.Int("to", (long)DataType.Float));
        // θ = position · f_i rounded to float, as the engine (and PyTorch) computes it
        var theta = _g.Op("Mul", positions, frequencies);                                              // (B, S, hd/2)
        angles = (Unsqueeze(CastTo(_g.Op("Cos", theta), _type), 2), Unsqueeze(CastTo(_g.Op("Sin", theta), _type), 2));
        _angles[key] = angles;
        _g.Scope = scope;
        return angles;
    }

    private string Unsqueeze(string x, params long[] axes) => _g.Op("Unsqueeze", x, _g.Int64s(axes));

    private string Transpose(string x, params long[] permutation) => _g.Op("Transpose", [x], NodeAttribute.Ints("perm", permutation));

    private string CastTo(string x, DataType type) => type == DataType.Float ? x : _g.Op("Cast", [x], NodeAttribute.Int("to", (long)type));
}
