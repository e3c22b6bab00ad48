using Dclm.Models;
using Dclm.Tensors;
using Dclm.Tensors.Ops;
using DataType = Dclm.Formats.Onnx.TensorProto.Types.DataType;

namespace Dclm.Export.Onnx;

/// <summary>
/// Builds the ONNX graph of a decoder from the facts its <see cref="ModelConfig"/> states (norm, q/k norm, attention
/// biases, positions, RoPE pairing, window, tied head: the same facts the engine's blocks run on, so no architecture
/// is named here) with inputs and outputs laid out as onnxruntime-genai's model builder lays out a decoder:
/// input_ids (B, S) and attention_mask (B, T) int64, past_key_values.{i}.key/value (B, Hk, P, hd); logits (B, S, V)
/// and present.{i}.key/value (B, Hk, T, hd). The residual stream x is (B·S, dim) throughout, as in the engine.
/// </summary>
internal sealed class DecoderGraph
{
    private readonly OnnxGraph _g = new();
    private readonly ModelConfig _c;
    private readonly OnnxExportOptions _options;
    // Activations, KV cache and logits.
    private readonly DataType _type;
    private readonly int[]? _queryOrder, _keyOrder;
    private AttentionGraph _attention = null!;

    private DecoderGraph(ModelConfig config, OnnxExportOptions options)
    {
        _c = config;
        _options = options;
        _type = options.Type == OnnxWeightType.F16 ? DataType.Float16 : DataType.Float;
        // The graph rotates half-split pairs; Q and K rows stored for adjacent pairs (llama.cpp's "llama" files) are put back.
        if (config.UsesRotary && config.RopeStyle == RopeStyle.AdjacentPairs)
        {
            _queryOrder = HalfSplitRowOrder(config.Heads, config.HeadDim);
            _keyOrder = HalfSplitRowOrder(config.KeyValueHeads, config.HeadDim);
        }
    }

    /// <summary>The graph of <paramref name="weights"/>, a model of <paramref name="config"/>, with weights stored as <paramref name="options"/> say.</summary>
    public static OnnxGraph Build(ModelConfig config, ModelWeights weights, OnnxExportOptions options)
    {
        var builder = new DecoderGraph(config, options);
        builder.Decoder(weights);
        return builder._g;
    }

    /// <summary>Element type of the activations, KV cache and logits of a graph of <paramref name="type"/>.</summary>
    public static DataType ActivationType(OnnxWeightType type) => type == OnnxWeightType.F16 ? DataType.Float16 : DataType.Float;

    private void Decoder(ModelWeights w)
    {
        var g = _g;
        int kv = _c.KeyValueHeads, hd = _c.HeadDim;
        var inputIds = g.Input("input_ids", DataType.Int64, "batch_size", "sequence_length");
        var attentionMask = g.Input("attention_mask", DataType.Int64, "batch_size", "total_sequence_length");
        for (int i = 0; i < _c.Layers; i++)
        {
            g.Input($"past_key_values.{i}.key", _type, "batch_size", kv, "past_sequence_length", hd);
            g.Input($"past_key_values.{i}.value", _type, "batch_size", kv, "past_sequence_length", hd);
        }
        _attention = new AttentionGraph(g, _c, _type, inputIds, attentionMask);

        // x = embedding[input_ids], (B·S, dim)
        g.Scope = "/model/embed_tokens";
        // int4 keeps the table in float16: half the bytes of the builder's float32, its rounding (2⁻¹¹ relative) far below int4's.
        var tableType = _options.Type == OnnxWeightType.F32 ? DataType.Float : DataType.Float16;
        var table = g.Weight("model.embed_tokens.weight", tableType, [w.TokenEmbedding.Rows, w.TokenEmbedding.Columns], WeightData.Rows(w.TokenEmbedding, tableType));
        var x = CastTo(g.Op("Gather", table, inputIds), tableType, _type);
        x = g.Op("Reshape", x, g.Int64s(-1, _c.Dim));

        var derived = RotaryEmbedding.InverseFrequencies(hd, _c.RopeTheta);
        for (int i = 0; i < _c.Layers; i++) x = Layer(i, w.Layers[i], w.Layers[i].RopeInverseFrequency ?? derived, x);

        // logits = W_out · n(x), (B, S, V)
        g.Scope = "/model/norm";
        var normed = Norm(x, w.FinalNorm, "model.norm.weight", _c.Norm);
        g.Scope = "/lm_head";
        var logits = Project(normed, w.Output, "lm_head", null);
        g.Node("Reshape", [logits, _attention.SequenceShape(_c.VocabularySize)], 1, [], outputNames: ["logits"]);

        g.Output("logits", _type, "batch_size", "sequence_length", _c.VocabularySize);
        for (int i = 0; i < _c.Layers; i++)
        {
            g.Output($"present.{i}.key", _type, "batch_size", kv, "total_sequence_length", hd);
            g.Output($"present.{i}.value", _type, "batch_size", kv, "total_sequence_length", hd);
        }
    }

    /// <summary>One block, as the engine's blocks run it (see Dclm.Models/Architectures); returns the new residual x.</summary>
    private string Layer(int i, LayerWeights w, float[] inverseFrequency, string x)
    {
        var g = _g;
        string name = $"model.layers.{i}";
        g.Scope = $"/model/layers.{i}/attn";

        // x += Wo · attention(rope(n_q(Wq·n(x) + bq)), rope(n_k(Wk·n(x) + bk)), Wv·n(x) + bv)
        var h = Norm(x, w.AttentionNorm, $"{name}.input_layernorm.weight", _c.Norm);
        var q = Bias(Project(h, w.Query, $"{name}.attn.q_proj", _queryOrder), w.QueryBias, $"{name}.attn.q_proj.bias", _queryOrder);
        var k = Bias(Project(h, w.Key, $"{name}.attn.k_proj", _keyOrder), w.KeyBias, $"{name}.attn.k_proj.bias", _keyOrder);
        var v = Bias(Project(h, w.Value, $"{name}.attn.v_proj", null), w.ValueBias, $"{name}.attn.v_proj.bias", null);
        if (_c.QueryKeyNorm == QueryKeyNorm.FullWidth)
        {
            // open_lm: the model's norm over all of q and all of k, before the head split
            q = Norm(q, Reorder(w.QueryNorm!, _queryOrder), $"{name}.attn.q_norm.weight", _c.Norm);
            k = Norm(k, Reorder(w.KeyNorm!, _keyOrder), $"{name}.attn.k_norm.weight", _c.Norm);
        }
        q = g.Op("Reshape", q, _attention.HeadShape(_c.Heads));                       // (B, S, H, hd)
        k = g.Op("Reshape", k, _attention.HeadShape(_c.KeyValueHeads));               // (B, S, Hk, hd)
        v = g.Op("Reshape", v, _attention.HeadShape(_c.KeyValueHeads));
        if (_c.QueryKeyNorm == QueryKeyNorm.PerHead)
        {
            // Qwen3: an RMS norm over each head, one gain of head width
            var headOrder = _queryOrder?.Take(_c.HeadDim).ToArray();
            q = Norm(q, Reorder(w.QueryNorm!, headOrder), $"{name}.attn.q_norm.weight", NormKind.RmsNorm);
            k = Norm(k, Reorder(w.KeyNorm!, headOrder), $"{name}.attn.k_norm.weight", NormKind.RmsNorm);
        }
        if (_c.UsesRotary)
        {
            q = _attention.Rope(q, inverseFrequency);
            k = _attention.Rope(k, inverseFrequency);
        }
        var attended = _attention.Attend(i, q, k, v);
        x = g.Op("Add", x, Project(attended, w.Output, $"{name}.attn.o_proj", null));

        // x += W_down · (silu(W_gate·n(x)) ⊙ W_up·n(x))
        g.Scope = $"/model/layers.{i}/mlp";
        h = Norm(x, w.FeedForwardNorm, $"{name}.post_attention_layernorm.weight", _c.Norm);
        var gate = Project(h, w.Gate, $"{name}.mlp.gate_proj", null);
        var up = Project(h, w.Up, $"{name}.mlp.up_proj", null);
        var activated = g.Op("Mul", g.Op("Mul", gate, g.Op("Sigmoid", gate)), up);
        return g.Op("Add", x, Project(activated, w.Down, $"{name}.mlp.down_proj", null));
    }

    /// <summary>
    /// y = x·Wᵀ for W (outputs, inputs), output column n from W's row <c>rowOrder[n]</c>: a MatMul against Wᵀ
    /// stored as the activations' type, or for int4 a MatMulNBits against W's 4-bit blocks.
    /// </summary>
    private string Project(string x, WeightMatrix w, string name, int[]? rowOrder)
    {
        var g = _g;
        if (_options.Type != OnnxWeightType.Int4)
        {
            var b = g.Weight($"{name}.MatMul.weight", _type, [w.Columns, w.Rows], WeightData.Transposed(w, _type, rowOrder));
            return g.Op("MatMul", x, b);
        }
        var q = new Int4BlockMatrix(w, _options.BlockSize, rowOrder);
        // Codes before scales: the scales are found while the codes are written.
        var codes = g.Weight($"{name}.MatMulNBits.qweight", DataType.Uint8, q.CodeShape, q.WriteCodes);
        var scales = g.Weight($"{name}.MatMulNBits.scales", DataType.Float, q.ScaleShape, q.WriteScales);
        return g.Node("MatMulNBits", [x, codes, scales], 1,
            [
                NodeAttribute.Int("K", w.Columns), NodeAttribute.Int("N", w.Rows), NodeAttribute.Int("bits", 4),
                NodeAttribute.Int("block_size", _options.BlockSize), NodeAttribute.Int("accuracy_level", _options.AccuracyLevel),
            ], domain: "com.microsoft")[0];
    }

    /// <summary>x + bias when the architecture has one (Qwen2's q, k, v); x otherwise.</summary>
    private string Bias(string x, float[]? bias, string name, int[]? order) =>
        bias is null ? x : _g.Op("Add", x, _g.Weight(name, _type, [bias.Length], WeightData.Vector(Reorder(bias, order), _type)));

    /// <summary>
    /// n(x) over the last axis with <paramref name="gain"/>: LayerNorm (x − mean)/√(var + eps) ⊙ gain, or RMSNorm
    /// x·(1/√(mean(x²) + eps)) ⊙ gain. Always in float32: a float16 x² overflows past 256.
    /// </summary>
    private string Norm(string x, float[] gain, string name, NormKind kind)
    {
        var g = _g;
        var input = CastTo(x, _type, DataType.Float);
        var weight = g.Weight(name, DataType.Float, [gain.Length], WeightData.Vector(gain, DataType.Float));
        string normed;
        if (kind == NormKind.LayerNorm)
            normed = g.Op("LayerNormalization", [input, weight], NodeAttribute.Int("axis", -1), NodeAttribute.Float("epsilon", _c.NormEps));
        else
        {
            var meanSquare = g.Op("ReduceMean", [g.Op("Mul", input, input)], NodeAttribute.Ints("axes", -1), NodeAttribute.Int("keepdims", 1));
            var inverse = g.Op("Reciprocal", g.Op("Sqrt", g.Op("Add", meanSquare, g.Scalar(_c.NormEps, DataType.Float))));
            normed = g.Op("Mul", g.Op("Mul", input, inverse), weight);
        }
        return CastTo(normed, DataType.Float, _type);
    }

    private string CastTo(string x, DataType from, DataType to) => from == to ? x : _g.Op("Cast", [x], NodeAttribute.Int("to", (long)to));

    /// <summary>values[order[i]] at i (a vector that follows reordered Q or K rows); values when there is no order.</summary>
    private static float[] Reorder(float[] values, int[]? order) =>
        order is null ? values : Enumerable.Range(0, values.Length).Select(i => values[order[i]]).ToArray();

    /// <summary>
    /// Row order that turns rows laid out for adjacent-pair RoPE back into half-split pairs, per head: new row
    /// j·hd/2 + i takes stored row 2i + j (the inverse of llama.cpp's convert permutation).
    /// </summary>
    internal static int[] HalfSplitRowOrder(int heads, int headDim)
    {
        var order = new int[heads * headDim];
        int half = headDim / 2;
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < half; i++)
                for (int j = 0; j < 2; j++)
                    order[h * headDim + j * half + i] = h * headDim + 2 * i + j;
        return order;
    }
}
