using Dclm.Formats.Gguf;
using Dclm.Models;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Ops;
using Dclm.Tensors.Quantization;

namespace Dclm.Checkpoints;

/// <summary>A change to one row of a matrix being written: (row in the model's own order, its values as floats).</summary>
public delegate void RowEdit(int row, Span<float> values);

/// <summary>
/// Writes a loaded model as one GGUF file under its architecture's name: open_lm models as our "openlm", the others as
/// llama.cpp's "llama" (Q/K rows permuted to its adjacent-pair RoPE layout), "qwen2" or "qwen3".
/// Every matrix is stored in the target type ("pure" quantisation); norms stay F32. Tensors are
/// converted a row at a time while writing, so memory stays flat for a 7B model.
/// </summary>
public static class GgufExporter
{
    /// <summary>Types a model can be converted to.</summary>
    public static readonly GgmlType[] TargetTypes = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K];

    /// <summary>
    /// Converts <paramref name="model"/> to <paramref name="outputPath"/> in <paramref name="type"/>.
    /// <paramref name="addTokenizer"/> adds the tokenizer's metadata (tokenizer.ggml.*). <paramref name="editRows"/>, when
    /// given, may return for a matrix (by its GGUF name) a change applied to each row, as floats, before it is stored:
    /// (row index in the model's own order, values). Merging adapters into the weights goes through it.
    /// </summary>
    public static void Export(LoadedModel model, string outputPath, GgmlType type, Action<GgufWriter>? addTokenizer = null,
        IProgress<(int Done, int Total)>? progress = null, CancellationToken cancellation = default, Func<string, RowEdit?>? editRows = null)
    {
        if (Array.IndexOf(TargetTypes, type) < 0)
            throw new ArgumentException($"cannot convert to {GgmlTypeInfo.Name(type)}; choose one of {string.Join(", ", TargetTypes.Select(GgmlTypeInfo.Name))}");
        var c = model.Config;
        var w = model.Model.Weights;
        bool openLm = c.Architecture == Architecture.OpenLm;
        // llama.cpp's "llama" files rotate adjacent pairs: half-split Q/K rows are permuted to match. Its "qwen2" and
        // "qwen3" files (NeoX RoPE) and our "openlm" keep rows as trained.
        var layout = GgufModelKeys.RopeLayout(c.Architecture);
        bool permute = layout != c.RopeStyle && c.RopeStyle == RopeStyle.HalfSplit && c.UsesRotary;
        if (layout == RopeStyle.HalfSplit && c.RopeStyle != RopeStyle.HalfSplit)
            throw new ArgumentException($"a {c.Architecture} model is written as {c.Architecture.Name}, which rotates half-split pairs; this one rotates adjacent pairs");

        var writer = new GgufWriter();
        GgufConfigWriter.Write(writer, c, Path.GetFileName(Path.TrimEndingDirectorySeparator(model.Path)));
        addTokenizer?.Invoke(writer);

        var tensors = new List<(string Name, Action Add)>();
        int written = 0, total = 0;
        void Report() => progress?.Report((++written, total));
        void Matrix(string name, WeightMatrix m, int[]? rowOrder = null)
        {
            total++;
            var edit = editRows?.Invoke(name);
            tensors.Add((name, () => AddMatrix(writer, name, m, TypeFor(type, m.Columns), rowOrder, edit, Report, cancellation)));
        }
        void Vector(string name, float[] v) =>
            tensors.Add((name, () => writer.AddTensor(name, GgmlType.F32, [v.Length], System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()))));

        Matrix(GgufModelKeys.TokenEmbedding, w.TokenEmbedding);
        for (int i = 0; i < c.Layers; i++)
        {
            var l = w.Layers[i];
            Vector(GgufModelKeys.Block(i, "attn_norm"), l.AttentionNorm);
            Matrix(GgufModelKeys.Block(i, "attn_q"), l.Query, permute ? RopeRowOrder(c.Heads, c.HeadDim) : null);
            Matrix(GgufModelKeys.Block(i, "attn_k"), l.Key, permute ? RopeRowOrder(c.KeyValueHeads, c.HeadDim) : null);
            Matrix(GgufModelKeys.Block(i, "attn_v"), l.Value);
            if (c.AttentionBias)
            {
                Vector(GgufModelKeys.BlockBias(i, "attn_q"), l.QueryBias!);
                Vector(GgufModelKeys.BlockBias(i, "attn_k"), l.KeyBias!);
                Vector(GgufModelKeys.BlockBias(i, "attn_v"), l.ValueBias!);
            }
            if (c.QueryKeyNorm != QueryKeyNorm.None)
            {
                Vector(GgufModelKeys.Block(i, "attn_q_norm"), l.QueryNorm!);
                Vector(GgufModelKeys.Block(i, "attn_k_norm"), l.KeyNorm!);
            }
            Matrix(GgufModelKeys.Block(i, "attn_output"), l.Output);
            Vector(GgufModelKeys.Block(i, "ffn_norm"), l.FeedForwardNorm);
            Matrix(GgufModelKeys.Block(i, "ffn_gate"), l.Gate);
            Matrix(GgufModelKeys.Block(i, "ffn_up"), l.Up);
            Matrix(GgufModelKeys.Block(i, "ffn_down"), l.Down);
        }
        if (!openLm && RopeFactors(c, w) is { } factors) Vector("rope_freqs.weight", factors);
        Vector(GgufModelKeys.OutputNorm, w.FinalNorm);
        if (!c.TiedEmbeddings) Matrix(GgufModelKeys.Output, w.Output);
        foreach (var (_, add) in tensors) add();
        writer.AddUInt32(GgufModelKeys.FileType, FileType(type));
        // The writer pulls each matrix's bytes when it reaches it, converting a row at a time.
        writer.Write(outputPath, cancellation);
    }

    /// <summary>
    /// llama.cpp's <c>rope_freqs.weight</c> (each RoPE frequency's divisor) when the model's frequencies differ from
    /// θ^(−2i/d), as a Llama 3.1 GGUF's do; null when they do not.
    /// </summary>
    private static float[]? RopeFactors(ModelConfig c, ModelWeights w)
    {
        if (w.Layers[0].RopeInverseFrequency is not { } frequencies) return null;
        if (w.Layers.Any(l => l.RopeInverseFrequency is not { } f || !f.AsSpan().SequenceEqual(frequencies)))
            throw new ArgumentException("the layers rotate with different RoPE frequencies, which a llama.cpp file cannot hold");
        var plain = RotaryEmbedding.InverseFrequencies(c.HeadDim, c.RopeTheta);
        var factors = plain.Select((p, i) => p / frequencies[i]).ToArray();
        return factors.All(f => Math.Abs(f - 1) < 1e-6) ? null : factors;
    }

    /// <summary>
    /// Row order that turns half-split RoPE rows into adjacent pairs, per head:
    /// new row 2i + j takes old row j·headDim/2 + i (llama.cpp's convert permutation).
    /// </summary>
    public static int[] RopeRowOrder(int heads, int headDim)
    {
        var order = new int[heads * headDim];
        int half = headDim / 2;
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < half; i++)
                for (int j = 0; j < 2; j++)
                    order[h * headDim + 2 * i + j] = h * headDim + j * half + i;
        return order;
    }

    private static GgmlType TypeFor(GgmlType target, int columns) =>
        columns % GgmlTypeInfo.BlockSize(target) == 0 ? target
        : target is GgmlType.F32 ? GgmlType.F32 : GgmlType.F16;

    private static unsafe void AddMatrix(GgufWriter writer, string name, WeightMatrix m, GgmlType type, int[]? rowOrder, RowEdit? edit, Action written, CancellationToken cancellation)
    {
        long rowBytes = GgmlTypeInfo.ByteCount(type, m.Columns);
        writer.AddTensor(name, type, [m.Rows, m.Columns], stream =>
        {
            var row = new float[m.Columns];
            var bytes = new byte[rowBytes];
            for (int r = 0; r < m.Rows; r++)
            {
                if ((r & 255) == 0) cancellation.ThrowIfCancellationRequested();
                int source = rowOrder?[r] ?? r;
                if (m.Type == type && rowOrder is null && edit is null)
                {
                    // Same type: copy the stored bytes, so f32→f32 and q8_0→q8_0 are lossless.
                    stream.Write(new ReadOnlySpan<byte>(m.Row(source), (int)rowBytes));
                    continue;
                }
                Dequantize.Row(m, source, row);
                edit?.Invoke(source, row);
                Quantizer.QuantizeRow(type, row, bytes);
                stream.Write(bytes);
            }
            written();
        });
    }

    /// <summary>llama.cpp's llama_ftype number for a "pure" file of one type.</summary>
    private static uint FileType(GgmlType type) => type switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 1,
        GgmlType.Q4_0 => 2,
        GgmlType.Q8_0 => 7,
        GgmlType.Q4_K => 15,
        GgmlType.Q6_K => 18,
        GgmlType.BF16 => 32,
        _ => 0,
    };
}
