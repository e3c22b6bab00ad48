using Dclm.Formats;
using Dclm.Formats.Gguf;
using Dclm.Models;
using Dclm.Tensors.Ops;

namespace Dclm.Checkpoints;

/// <summary>Reads the config and binds the weights of a GGUF file of any <see cref="Architecture"/> ("llama", "qwen2", "qwen3", "openlm").</summary>
internal static class GgufModelReader
{
    public static ModelConfig ReadConfig(GgufFile file)
    {
        string path = file.FilePath;
        string arch = file.TryGetString(GgufModelKeys.Architecture, out var a) ? a
            : throw new ModelFileException(path, $"metadata key '{GgufModelKeys.Architecture}' is missing");
        var architecture = Architecture.Find(arch) ?? throw new ModelFileException(path, $"architecture '{arch}' is not supported ({Architecture.KnownNames})");
        bool openLm = architecture == Architecture.OpenLm;
        int headWidth = file.TryGetUInt32(GgufModelKeys.KeyLength(arch), out uint keyLength) ? (int)Math.Min(1 << 20, keyLength) : 0;
        string scaling = file.TryGetString($"{arch}.rope.scaling.type", out var st) ? st : "none";
        if (scaling is not ("none" or "linear"))
            throw new ModelFileException(path, $"rope scaling '{scaling}' is not supported (none, linear)");
        if (headWidth > 0 && file.TryGetUInt32(GgufModelKeys.ValueLength(arch), out uint valueLength) && valueLength != keyLength)
            throw new ModelFileException(path, $"key width {keyLength} and value width {valueLength} differ; only equal widths are supported");
        int Int(string key) => (int)Math.Min(int.MaxValue, file.GetUInt32(key));
        int heads = Int(GgufModelKeys.HeadCount(arch));
        int vocabulary = file.TryGetUInt32(GgufModelKeys.VocabSize(arch), out uint vs) ? (int)Math.Min(int.MaxValue, vs)
            : file.TryGetStringArray("tokenizer.ggml.tokens", out var tokens) ? tokens.Length
            : (int)file.GetTensor(GgufModelKeys.TokenEmbedding).Shape[0];
        string positional = file.TryGetString(GgufModelKeys.PositionalEmbedding(arch), out var pe) ? pe : "rotary";
        try
        {
            return new ModelConfig
            {
                Architecture = architecture,
                Dim = Int(GgufModelKeys.EmbeddingLength(arch)),
                Layers = Int(GgufModelKeys.BlockCount(arch)),
                Heads = heads,
                KeyValueHeads = file.TryGetUInt32(GgufModelKeys.HeadCountKv(arch), out uint kv) ? (int)Math.Min(int.MaxValue, kv) : heads,
                HiddenDim = Int(GgufModelKeys.FeedForwardLength(arch)),
                VocabularySize = vocabulary,
                ContextLength = Int(GgufModelKeys.ContextLength(arch)),
                NormEps = openLm ? file.GetFloat32(GgufModelKeys.LayerNormEpsilon(arch)) : file.GetFloat32(GgufModelKeys.RmsNormEpsilon(arch)),
                Norm = openLm ? NormKind.LayerNorm : NormKind.RmsNorm,
                QueryKeyNorm = !openLm ? architecture.QueryKeyNorms[0]
                    : file.TryGetBool(GgufModelKeys.QkNorm(arch), out bool qk) && qk ? QueryKeyNorm.FullWidth : QueryKeyNorm.None,
                Positions = PositionEncodingNames.Parse(positional)
                    ?? throw new ModelFileException(path, $"positional embedding '{positional}' is not supported ({PositionEncodingNames.Known})"),
                RopeTheta = file.TryGetFloat32(GgufModelKeys.RopeFreqBase(arch), out float theta) ? theta : 10000,
                RopeStyle = GgufModelKeys.RopeLayout(architecture),
                HeadDimension = headWidth,
                SlidingWindow = file.TryGetUInt32(GgufModelKeys.SlidingWindow(arch), out uint window) ? (int)Math.Min(int.MaxValue, window) : 0,
                TiedEmbeddings = !file.Tensors.ContainsKey(GgufModelKeys.Output),
            }.Validate();
        }
        catch (InvalidDataException e)
        {
            throw new ModelFileException(path, e.Message, e);
        }
    }

    public static ModelWeights Bind(GgufFile file, ModelConfig c)
    {
        var t = new TensorBinder(file.FilePath, file.Tensors);
        int d = c.Dim, qd = c.QueryDim, kv = c.KeyValueDim, h = c.HiddenDim, v = c.VocabularySize;
        bool perHead = c.QueryKeyNorm == QueryKeyNorm.PerHead, qkNorm = c.QueryKeyNorm != QueryKeyNorm.None;
        int qNorm = perHead ? c.HeadDim : qd, kNorm = perHead ? c.HeadDim : kv;
        var frequencies = RopeFrequencies(file, c, t);
        var layers = new LayerWeights[c.Layers];
        for (int i = 0; i < c.Layers; i++)
        {
            layers[i] = new LayerWeights
            {
                RopeInverseFrequency = frequencies,
                AttentionNorm = t.Vector(GgufModelKeys.Block(i, "attn_norm"), d),
                Query = t.Matrix(GgufModelKeys.Block(i, "attn_q"), qd, d),
                Key = t.Matrix(GgufModelKeys.Block(i, "attn_k"), kv, d),
                Value = t.Matrix(GgufModelKeys.Block(i, "attn_v"), kv, d),
                QueryNorm = qkNorm ? t.Vector(GgufModelKeys.Block(i, "attn_q_norm"), qNorm) : null,
                KeyNorm = qkNorm ? t.Vector(GgufModelKeys.Block(i, "attn_k_norm"), kNorm) : null,
                QueryBias = c.AttentionBias ? t.Vector(GgufModelKeys.BlockBias(i, "attn_q"), qd) : null,
                KeyBias = c.AttentionBias ? t.Vector(GgufModelKeys.BlockBias(i, "attn_k"), kv) : null,
                ValueBias = c.AttentionBias ? t.Vector(GgufModelKeys.BlockBias(i, "attn_v"), kv) : null,
                Output = t.Matrix(GgufModelKeys.Block(i, "attn_output"), d, qd),
                FeedForwardNorm = t.Vector(GgufModelKeys.Block(i, "ffn_norm"), d),
                Gate = t.Matrix(GgufModelKeys.Block(i, "ffn_gate"), h, d),
                Up = t.Matrix(GgufModelKeys.Block(i, "ffn_up"), h, d),
                Down = t.Matrix(GgufModelKeys.Block(i, "ffn_down"), d, h),
            };
        }
        var embedding = t.Matrix(GgufModelKeys.TokenEmbedding, v, d);
        var output = c.TiedEmbeddings ? embedding : t.Matrix(GgufModelKeys.Output, v, d);
        return new ModelWeights(embedding, layers, t.Vector(GgufModelKeys.OutputNorm, d), output, file);
    }

    /// <summary>
    /// RoPE frequencies when the file changes them, as llama.cpp applies it: Llama 3.1's <c>rope_freqs.weight</c>
    /// divides each frequency by its factor, and linear scaling divides them all by the scale factor. Null: the
    /// plain θ^(−2i/d) frequencies.
    /// </summary>
    private static float[]? RopeFrequencies(GgufFile file, ModelConfig c, TensorBinder t)
    {
        string arch = file.TryGetString(GgufModelKeys.Architecture, out var a) ? a : "";
        float[]? factors = t.OptionalVector("rope_freqs.weight", c.HeadDim / 2);
        bool linear = file.TryGetString($"{arch}.rope.scaling.type", out var type) && type == "linear";
        float scale = linear && file.TryGetFloat32($"{arch}.rope.scaling.factor", out float f) && f > 0 ? f : 1;
        if (factors is null && scale == 1) return null;
        var frequencies = Dclm.Tensors.Ops.RotaryEmbedding.InverseFrequencies(c.HeadDim, c.RopeTheta);
        for (int i = 0; i < frequencies.Length; i++) frequencies[i] /= (factors?[i] ?? 1) * scale;
        return frequencies;
    }
}
