using Dclm.Models;

namespace Dclm.Checkpoints;

/// <summary>
/// Binds Hugging Face LlamaForCausalLM tensor names (model.layers.{i}.self_attn.q_proj, ...) to model weights, with the
/// Q/K/V biases of Qwen2ForCausalLM and the per-head q/k norms of Qwen3ForCausalLM.
/// </summary>
internal static class HfLlamaWeights
{
    public static ModelWeights Bind(TensorBinder t, ModelConfig c, IDisposable owner)
    {
        int d = c.Dim, qd = c.QueryDim, kv = c.KeyValueDim, h = c.HiddenDim, v = c.VocabularySize;
        bool perHead = c.QueryKeyNorm == QueryKeyNorm.PerHead;
        var layers = new LayerWeights[c.Layers];
        for (int i = 0; i < c.Layers; i++)
        {
            string p = $"model.layers.{i}.";
            layers[i] = new LayerWeights
            {
                AttentionNorm = t.Vector(p + "input_layernorm.weight", d),
                Query = t.Matrix(p + "self_attn.q_proj.weight", qd, d),
                Key = t.Matrix(p + "self_attn.k_proj.weight", kv, d),
                Value = t.Matrix(p + "self_attn.v_proj.weight", kv, d),
                QueryBias = c.AttentionBias ? t.Vector(p + "self_attn.q_proj.bias", qd) : null,
                QueryNorm = perHead ? t.Vector(p + "self_attn.q_norm.weight", c.HeadDim) : null,
                KeyNorm = perHead ? t.Vector(p + "self_attn.k_norm.weight", c.HeadDim) : null,
                KeyBias = c.AttentionBias ? t.Vector(p + "self_attn.k_proj.bias", kv) : null,
                ValueBias = c.AttentionBias ? t.Vector(p + "self_attn.v_proj.bias", kv) : null,
                Output = t.Matrix(p + "self_attn.o_proj.weight", d, qd),
                FeedForwardNorm = t.Vector(p + "post_attention_layernorm.weight", d),
                Gate = t.Matrix(p + "mlp.gate_proj.weight", h, d),
                Up = t.Matrix(p + "mlp.up_proj.weight", h, d),
                Down = t.Matrix(p + "mlp.down_proj.weight", d, h),
            };
        }
        var embedding = t.Matrix("model.embed_tokens.weight", v, d);
        var output = c.TiedEmbeddings || !t.Has("lm_head.weight") ? embedding : t.Matrix("lm_head.weight", v, d);
        return new ModelWeights(embedding, layers, t.Vector("model.norm.weight", d), output, owner);
    }
}
