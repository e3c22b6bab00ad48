using Dclm.Models;
using Dclm.Models.Adapters;
using Dclm.Tensors.Ops;

namespace Dclm.Checkpoints.Adapters;

/// <summary>One module PEFT would wrap: its path in the Hugging Face model, and the targets it holds at which row offsets.</summary>
/// <param name="Name">The module's own name, as PEFT's target_modules lists it (q_proj, in_proj, ...).</param>
/// <param name="Path">Its path from the model root, e.g. model.layers.3.self_attn.q_proj.</param>
/// <param name="Parts">The targets inside it and the first row of each (open_lm fuses q|k|v and gate|up).</param>
/// <param name="Rows">Output rows of the whole module.</param>
/// <param name="Columns">Input width.</param>
public sealed record PeftModule(string Name, string Path, (LoraTarget Target, int RowOffset)[] Parts, int Rows, int Columns);

/// <summary>
/// How PEFT names an architecture's modules: Hugging Face Llama/Qwen/Mistral models (self_attn.q_proj, ...,
/// mlp.down_proj) and open_lm (attention.in_proj holding q|k|v, attention.out_proj, feed_forward.w12 holding
/// gate|up, feed_forward.w3).
/// </summary>
public static class PeftModules
{
    /// <summary>The modules of block <paramref name="layer"/>.</summary>
    public static PeftModule[] Of(ModelConfig c, int layer)
    {
        int d = c.Dim, qd = c.QueryDim, kv = c.KeyValueDim, h = c.HiddenDim;
        if (c.Architecture == Architecture.OpenLm)
        {
            string p = $"model.layers.{layer}.";
            return
            [
                new("in_proj", p + "attention.in_proj", [(LoraTarget.Query, 0), (LoraTarget.Key, qd), (LoraTarget.Value, qd + kv)], qd + 2 * kv, d),
                new("out_proj", p + "attention.out_proj", [(LoraTarget.Output, 0)], d, qd),
                new("w12", p + "feed_forward.w12", [(LoraTarget.Gate, 0), (LoraTarget.Up, h)], 2 * h, d),
                new("w3", p + "feed_forward.w3", [(LoraTarget.Down, 0)], d, h),
            ];
        }
        string a = $"model.layers.{layer}.self_attn.", m = $"model.layers.{layer}.mlp.";
        return
        [
            new("q_proj", a + "q_proj", [(LoraTarget.Query, 0)], qd, d),
            new("k_proj", a + "k_proj", [(LoraTarget.Key, 0)], kv, d),
            new("v_proj", a + "v_proj", [(LoraTarget.Value, 0)], kv, d),
            new("o_proj", a + "o_proj", [(LoraTarget.Output, 0)], d, qd),
            new("gate_proj", m + "gate_proj", [(LoraTarget.Gate, 0)], h, d),
            new("up_proj", m + "up_proj", [(LoraTarget.Up, 0)], h, d),
            new("down_proj", m + "down_proj", [(LoraTarget.Down, 0)], d, h),
        ];
    }

    /// <summary>
    /// Row order between Hugging Face and the base's rows of <paramref name="target"/>, or null when they agree:
    /// llama.cpp's llama files store Q and K rows permuted for adjacent-pair RoPE, so base row r is Hugging Face
    /// row order[r].
    /// </summary>
    public static int[]? RowOrder(ModelConfig c, LoraTarget target)
    {
        if (c.Architecture != Architecture.Llama || c.RopeStyle != RopeStyle.AdjacentPairs) return null;
        return target switch
        {
            LoraTarget.Query => GgufExporter.RopeRowOrder(c.Heads, c.HeadDim),
            LoraTarget.Key => GgufExporter.RopeRowOrder(c.KeyValueHeads, c.HeadDim),
            _ => null,
        };
    }
}
