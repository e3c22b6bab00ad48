using System.Text.Json;
using Dclm.Formats;
using Dclm.Models;
using Dclm.Tensors.Ops;

namespace Dclm.Checkpoints;

/// <summary>
/// Maps a Hugging Face <c>config.json</c> to a <see cref="ModelConfig"/>: open_lm's flat keys (dim, n_layers, n_heads,
/// ...; model_type "openlm" or none) or the Llama family's (hidden_size, ...; model_type the name of another
/// <see cref="Architecture"/>: llama, mistral, qwen2, qwen3).
/// </summary>
public static class HfConfigReader
{
    /// <summary>Longest config.json accepted; real ones are a few kilobytes.</summary>
    public const long MaxConfigBytes = 1 << 20;

    /// <summary>Reads and maps <paramref name="path"/>; every problem names the file and the key.</summary>
    public static ModelConfig Read(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new ModelFileException(path, "file not found");
        if (info.Length > MaxConfigBytes) throw new ModelFileException(path, $"is {info.Length} bytes, more than a config.json can be ({MaxConfigBytes})");
        JsonDocument document;
        try { document = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new ModelFileException(path, $"is not valid JSON: {e.Message}", e); }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new ModelFileException(path, "must hold a JSON object");
            var keys = new ConfigKeys(path, root);
            try
            {
                var architecture = ArchitectureOf(keys);
                return architecture == Architecture.OpenLm ? OpenLm(keys) : Llama(keys, architecture);
            }
            catch (InvalidDataException e)
            {
                throw new ModelFileException(path, e.Message, e);
            }
        }
    }

    /// <summary>The architecture named by model_type; open_lm's configs may have none.</summary>
    private static Architecture ArchitectureOf(ConfigKeys k)
    {
        string modelType = k.OptionalString("model_type") ?? Architecture.OpenLm.Name;
        return Architecture.Find(modelType) ?? throw new ModelFileException(k.Path, $"model_type '{modelType}' is not supported (expected one of {Architecture.KnownNames})");
    }

    private static ModelConfig OpenLm(ConfigKeys k)
    {
        string norm = k.OptionalString("norm_type") ?? "gain_only_lp_layer_norm";
        var normKind = norm switch
        {
            "gain_only_lp_layer_norm" or "gain_only_layer_norm" => NormKind.LayerNorm,
            "rms_norm" or "lp_rms_norm" => NormKind.RmsNorm,
            _ => throw new ModelFileException(k.Path, $"norm_type '{norm}' is not supported (gain_only_lp_layer_norm, gain_only_layer_norm, rms_norm)"),
        };
        string ffn = k.OptionalString("ffn_type") ?? "swiglu";
        if (ffn is not ("swiglu" or "swiglu_torch"))
            throw new ModelFileException(k.Path, $"ffn_type '{ffn}' is not supported (swiglu)");
        string positional = k.OptionalString("positional_embedding_type") ?? "rotary";
        var positions = PositionEncodingNames.Parse(positional)
            ?? throw new ModelFileException(k.Path, $"positional_embedding_type '{positional}' is not supported ({PositionEncodingNames.Known})");
        if (k.OptionalBool("post_embed_norm") == true)
            throw new ModelFileException(k.Path, "post_embed_norm true is not supported");
        int dim = k.Int("dim");
        int heads = k.Int("n_heads");
        return new ModelConfig
        {
            Architecture = Architecture.OpenLm,
            Dim = dim,
            Layers = k.Int("n_layers"),
            Heads = heads,
            KeyValueHeads = heads,
            HiddenDim = k.OptionalInt("ffn_hidden_dim") ?? ModelConfig.OpenLmHiddenDim(dim),
            VocabularySize = k.Int("vocab_size"),
            ContextLength = k.Int("seq_len"),
            NormEps = (float)(k.OptionalDouble("norm_eps") ?? 1e-5),
            Norm = normKind,
            QueryKeyNorm = k.OptionalBool("apply_qk_norm") == true ? QueryKeyNorm.FullWidth : QueryKeyNorm.None,
            Positions = positions,
            RopeTheta = k.OptionalDouble("rope_theta") ?? 10000,
            RopeStyle = RopeStyle.HalfSplit,
            SlidingWindow = k.OptionalInt("sliding_window") ?? 0,
            TiedEmbeddings = k.OptionalBool("weight_tying") ?? false,
        }.Validate();
    }

    private static ModelConfig Llama(ConfigKeys k, Architecture architecture)
    {
        if (k.Root.TryGetProperty("rope_scaling", out var scaling) && scaling.ValueKind != JsonValueKind.Null)
            throw new ModelFileException(k.Path, "rope_scaling is not supported");
        string activation = k.OptionalString("hidden_act") ?? "silu";
        if (activation != "silu") throw new ModelFileException(k.Path, $"hidden_act '{activation}' is not supported (silu)");
        int heads = k.Int("num_attention_heads");
        // Qwen2's modeling code gives Q, K and V biases whatever the config says; Llama's and Qwen3's give Q, K, V and O
        // biases when attention_bias is true, which their blocks do not have.
        if (k.OptionalBool("attention_bias") == true && !architecture.AttentionBias)
            throw new ModelFileException(k.Path, $"attention_bias true (biases on Q, K, V and O) is not supported for model_type {k.OptionalString("model_type")}");
        // Qwen2 and Qwen3 list a sliding_window that applies only with use_sliding_window.
        bool qwen = architecture == Architecture.Qwen2 || architecture == Architecture.Qwen3;
        int window = qwen && k.OptionalBool("use_sliding_window") != true ? 0 : k.OptionalInt("sliding_window") ?? 0;
        return new ModelConfig
        {
            Architecture = architecture,
            QueryKeyNorm = architecture.QueryKeyNorms[0],
            HeadDimension = k.OptionalInt("head_dim") ?? 0,
            Dim = k.Int("hidden_size"),
            Layers = k.Int("num_hidden_layers"),
            Heads = heads,
            KeyValueHeads = k.OptionalInt("num_key_value_heads") ?? heads,
            HiddenDim = k.Int("intermediate_size"),
            VocabularySize = k.Int("vocab_size"),
            ContextLength = k.OptionalInt("max_position_embeddings") ?? 2048,
            NormEps = (float)(k.OptionalDouble("rms_norm_eps") ?? 1e-6),
            Norm = NormKind.RmsNorm,
            Positions = PositionEncoding.Rotary,
            RopeTheta = k.OptionalDouble("rope_theta") ?? 10000,
            // Hugging Face Llama weights rotate halves ("rotate_half").
            RopeStyle = RopeStyle.HalfSplit,
            SlidingWindow = window,
            TiedEmbeddings = k.OptionalBool("tie_word_embeddings") ?? false,
        }.Validate();
    }

    /// <summary>Typed access to config keys with errors that name the key.</summary>
    private sealed class ConfigKeys(string path, JsonElement root)
    {
        public string Path => path;
        public JsonElement Root => root;

        public int Int(string key) => OptionalInt(key) ?? throw new ModelFileException(path, $"key '{key}' is missing");

        public int? OptionalInt(string key)
        {
            if (!root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int value))
                throw new ModelFileException(path, $"key '{key}' must be an integer, found {Describe(v)}");
            return value;
        }

        public double? OptionalDouble(string key)
        {
            if (!root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double value) || !double.IsFinite(value))
                throw new ModelFileException(path, $"key '{key}' must be a number, found {Describe(v)}");
            return value;
        }

        public bool? OptionalBool(string key)
        {
            if (!root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new ModelFileException(path, $"key '{key}' must be true or false, found {Describe(v)}"),
            };
        }

        public string? OptionalString(string key)
        {
            if (!root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            if (v.ValueKind != JsonValueKind.String) throw new ModelFileException(path, $"key '{key}' must be a string, found {Describe(v)}");
            return v.GetString();
        }

        private static string Describe(JsonElement v)
        {
            string text = v.GetRawText();
            return text.Length > 40 ? text[..40] + "..." : text;
        }
    }
}
