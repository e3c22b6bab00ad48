using System.Text.Json;
using System.Text.Json.Nodes;
using Dclm.Formats;
using Dclm.Formats.Safetensors;
using Dclm.Models;
using Dclm.Tensors;

namespace Dclm.Checkpoints;

/// <summary>
/// Writes an open_lm model as apple/DCLM-7B lays it out on Hugging Face: a flat open_lm config.json,
/// safetensors shards with model.safetensors.index.json, and the same tensor names, so both open_lm
/// and <see cref="ModelLoader"/> read it.
/// </summary>
public static class OpenLmCheckpointWriter
{
    /// <summary>The tensors of an open_lm model of this config, in file order, with row-major shapes.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> Tensors(ModelConfig c)
    {
        if (c.Architecture != Architecture.OpenLm) throw new ArgumentException("only open_lm models are written in the DCLM layout");
        var list = new List<(string, long[])> { ("model.tok_embeddings.weight", [c.VocabularySize, c.Dim]) };
        for (int i = 0; i < c.Layers; i++)
        {
            string p = $"model.layers.{i}.";
            list.Add((p + "attention_norm.weight", [c.Dim]));
            list.Add((p + "attention.in_proj.weight", [3L * c.Dim, c.Dim]));
            if (c.QueryKeyNorm == QueryKeyNorm.FullWidth)
            {
                list.Add((p + "attention.q_norm.weight", [c.Dim]));
                list.Add((p + "attention.k_norm.weight", [c.Dim]));
            }
            list.Add((p + "attention.out_proj.weight", [c.Dim, c.Dim]));
            if (c.UsesRotary) list.Add((p + "attention.pos_embed.inv_freq", [c.HeadDim / 2]));
            list.Add((p + "ffn_norm.weight", [c.Dim]));
            list.Add((p + "feed_forward.w12.weight", [2L * c.HiddenDim, c.Dim]));
            list.Add((p + "feed_forward.w3.weight", [c.Dim, c.HiddenDim]));
        }
        list.Add(("model.norm.weight", [c.Dim]));
        if (!c.TiedEmbeddings) list.Add(("model.output.weight", [c.VocabularySize, c.Dim]));
        return list;
    }

    /// <summary>
    /// Writes config.json and the weights into <paramref name="directory"/>. <paramref name="writeTensor"/>
    /// streams each tensor's values in <paramref name="type"/> (F32, F16 or BF16), given its name and shape.
    /// Shards hold at most <paramref name="maxShardBytes"/>; files appear atomically.
    /// </summary>
    public static void Write(string directory, ModelConfig config, GgmlType type, Action<string, long[], Stream> writeTensor,
        long maxShardBytes = 5L << 30, CancellationToken cancellation = default)
    {
        if (type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16)) throw new ArgumentException($"checkpoints are written in F32, F16 or BF16, not {type}");
        Directory.CreateDirectory(directory);
        var writer = new SafetensorsWriter();
        writer.AddMetadata("format", "pt");
        foreach (var (name, shape) in Tensors(config))
        {
            // RoPE frequencies are a buffer of f32 values in open_lm, whatever the weights' dtype.
            var tensorType = name.EndsWith("inv_freq", StringComparison.Ordinal) ? GgmlType.F32 : type;
            writer.AddTensor(name, tensorType, shape, stream => writeTensor(name, shape, stream));
        }
        writer.WriteSharded(directory, maxShardBytes, cancellation);
        WriteConfig(Path.Combine(directory, "config.json"), config, type);
    }

    /// <summary>Writes open_lm's flat config.json keys for <paramref name="c"/>.</summary>
    public static void WriteConfig(string path, ModelConfig c, GgmlType type)
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray("OpenLMForCausalLM"),
            ["model_type"] = "openlm",
            ["dim"] = c.Dim,
            ["n_layers"] = c.Layers,
            ["n_heads"] = c.Heads,
            ["vocab_size"] = c.VocabularySize,
            ["seq_len"] = c.ContextLength,
            ["norm_eps"] = c.NormEps,
            ["norm_type"] = c.Norm == NormKind.LayerNorm ? "gain_only_lp_layer_norm" : "rms_norm",
            ["apply_qk_norm"] = c.QueryKeyNorm == QueryKeyNorm.FullWidth,
            ["positional_embedding_type"] = PositionEncodingNames.Name(c.Positions),
            ["ffn_type"] = "swiglu",
            ["attn_name"] = "torch_attn",
            ["post_embed_norm"] = false,
            ["weight_tying"] = c.TiedEmbeddings,
            ["torch_dtype"] = type switch { GgmlType.BF16 => "bfloat16", GgmlType.F16 => "float16", _ => "float32" },
        };
        if (c.HiddenDim != ModelConfig.OpenLmHiddenDim(c.Dim)) json["ffn_hidden_dim"] = c.HiddenDim;
        if (c.RopeTheta != 10000) json["rope_theta"] = c.RopeTheta;
        if (c.SlidingWindow > 0) json["sliding_window"] = c.SlidingWindow;
        AtomicFile.WriteText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
