using Dclm.Checkpoints;
using Dclm.Formats.Gguf;
using Dclm.Tensors;

namespace Dclm.Training.FineTuning;

/// <summary>
/// Folds adapters into a base: each adapted matrix becomes W + s·B·A (row by row, as it is written), and the model is
/// written as one GGUF file of the chosen type through the same exporter as <c>dclm convert</c>, so a merged Llama
/// base is a llama.cpp file like any other.
/// </summary>
public static class AdapterMerger
{
    /// <summary>Writes <paramref name="model"/> with <paramref name="adapters"/> merged to <paramref name="outputPath"/> in <paramref name="type"/>.</summary>
    public static void Merge(LoadedModel model, LoraAdapters adapters, string outputPath, GgmlType type, Action<GgufWriter>? addTokenizer = null,
        IProgress<(int Done, int Total)>? progress = null, CancellationToken cancellation = default)
    {
        if (adapters.Config with { } != model.Config with { }) throw new ArgumentException("the adapters were made for another model");
        var edits = new Dictionary<string, RowEdit>();
        for (int layer = 0; layer < model.Config.Layers; layer++)
            foreach (var target in LoraTargets.All)
                if (adapters.For(layer, target) is { Count: > 0 } list)
                    edits[GgufModelKeys.Block(layer, TensorName(target))] = (row, values) => AddProducts(list, row, values);
        GgufExporter.Export(model, outputPath, type, addTokenizer, progress, cancellation, name => edits.GetValueOrDefault(name));
    }

    /// <summary>values += s·Σ_k B[row − start, k]·A[k, :] for every adapter covering the row.</summary>
    private static void AddProducts(IReadOnlyList<LoraAdapter> adapters, int row, Span<float> values)
    {
        foreach (var adapter in adapters)
        {
            int i = row - adapter.RowStart;
            if (i < 0 || i >= adapter.Rows) continue;
            for (int k = 0; k < adapter.Rank; k++)
            {
                float coefficient = adapter.Scale * adapter.B.Values[i * adapter.Rank + k];
                if (coefficient == 0) continue;
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(adapter.A.Values.AsSpan(k * adapter.InputWidth, adapter.InputWidth), coefficient, values, values);
            }
        }
    }

    private static string TensorName(LoraTarget target) => target switch
    {
        LoraTarget.Query => "attn_q", LoraTarget.Key => "attn_k", LoraTarget.Value => "attn_v", LoraTarget.Output => "attn_output",
        LoraTarget.Gate => "ffn_gate", LoraTarget.Up => "ffn_up", _ => "ffn_down",
    };
}
