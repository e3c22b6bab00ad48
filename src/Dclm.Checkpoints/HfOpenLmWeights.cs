using Dclm.Models;

namespace Dclm.Checkpoints;

/// <summary>Binds apple/DCLM-7B-style tensor names (model.layers.{i}.attention.in_proj, ...) to model weights.</summary>
internal static class HfOpenLmWeights
{
    public static ModelWeights Bind(TensorBinder t, ModelConfig c, IDisposable owner)
    {
        int d = c.Dim, h = c.HiddenDim, v = c.VocabularySize;
        bool qkNorm = c.QueryKeyNorm == QueryKeyNorm.FullWidth;
        var layers = new LayerWeights[c.Layers];
        for (int i = 0; i < c.Layers; i++)
        {
            string p = $"model.layers.{i}.";
            // in_proj rows are Q, then K, then V; w12 rows are the gate, then up.
            var qkv = t.Matrix(p + "attention.in_proj.weight", 3 * d, d);
            var w12 = t.Matrix(p + "feed_forward.w12.weight", 2 * h, d);
            layers[i] = new LayerWeights
            {
                AttentionNorm = t.Vector(p + "attention_norm.weight", d),
                Query = qkv.RowSlice(0, d),
                Key = qkv.RowSlice(d, d),
                Value = qkv.RowSlice(2 * d, d),
                QueryNorm = qkNorm ? t.Vector(p + "attention.q_norm.weight", d) : null,
                KeyNorm = qkNorm ? t.Vector(p + "attention.k_norm.weight", d) : null,
                Output = t.Matrix(p + "attention.out_proj.weight", d, d),
                FeedForwardNorm = t.Vector(p + "ffn_norm.weight", d),
                Gate = w12.RowSlice(0, h),
                Up = w12.RowSlice(h, h),
                Down = t.Matrix(p + "feed_forward.w3.weight", d, h),
                RopeInverseFrequency = StoredFrequencies(t, p + "attention.pos_embed.inv_freq", c),
            };
        }
        var embedding = t.Matrix("model.tok_embeddings.weight", v, d);
        var output = c.TiedEmbeddings ? embedding : t.Matrix("model.output.weight", v, d);
        return new ModelWeights(embedding, layers, t.Vector("model.norm.weight", d), output, owner);
    }

    /// <summary>
    /// open_lm saves RoPE's inv_freq buffer, rounded to the checkpoint's dtype (bf16 keeps 8 bits).
    /// open_lm itself recomputes the buffer in f32 from θ, so when the stored values are θ's within
    /// rounding we use the exact f32 ones (null = derive); otherwise the stored values win, since they
    /// then describe a different base than the config states.
    /// </summary>
    private static float[]? StoredFrequencies(TensorBinder t, string name, ModelConfig c)
    {
        if (!c.UsesRotary) return null;
        var stored = t.OptionalVector(name, c.HeadDim / 2);
        if (stored is null) return null;
        var derived = Dclm.Tensors.Ops.RotaryEmbedding.InverseFrequencies(c.HeadDim, c.RopeTheta);
        for (int i = 0; i < derived.Length; i++)
            if (Math.Abs(stored[i] - derived[i]) > 0.01 * Math.Abs(derived[i])) return stored;
        return null;
    }
}
