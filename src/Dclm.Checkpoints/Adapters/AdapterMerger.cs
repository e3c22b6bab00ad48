using Dclm.Formats.Gguf;
using Dclm.Models.Adapters;
using Dclm.Tensors;

namespace Dclm.Checkpoints.Adapters;

/// <summary>
/// Folds adapters into a base: each adapted matrix becomes W + s·B·A (row by row, as it is written), and the model is
/// written as one GGUF file of the chosen type through the same exporter as <c>dclm convert</c>, so a merged Llama
/// base is a llama.cpp file like any other.
/// </summary>
public static class AdapterMerger
{
    /// <summary>Writes <paramref name="model"/> with <paramref name="adapter"/> merged to <paramref name="outputPath"/> in <paramref name="type"/>.</summary>
    /// <param name="model">The base.</param>
    /// <param name="adapter">The adapter, made for <paramref name="model"/>.</param>
    /// <param name="outputPath">The GGUF file to write.</param>
    /// <param name="type">The type of every matrix.</param>
    /// <param name="addTokenizer">Adds the tokenizer's metadata.</param>
    /// <param name="progress">Matrices written so far, of all.</param>
    /// <param name="cancellation">Stops the export (the file is not written).</param>
    public static void Merge(LoadedModel model, LoraWeights adapter, string outputPath, GgmlType type, Action<GgufWriter>? addTokenizer = null,
        IProgress<(int Done, int Total)>? progress = null, CancellationToken cancellation = default)
    {
        if (adapter.Config != model.Config) throw new ArgumentException("the adapter was made for another model");
        var edits = new Dictionary<string, RowEdit>();
        for (int layer = 0; layer < model.Config.Layers; layer++)
            foreach (var target in LoraTargets.All)
                if (adapter.For(layer, target) is { Count: > 0 } updates)
                    edits[GgufModelKeys.Block(layer, TensorName(target))] = (row, values) =>
                    {
                        foreach (var update in updates) update.AddRowTo(row, values);
                    };
        GgufExporter.Export(model, outputPath, type, addTokenizer, progress, cancellation, name => edits.GetValueOrDefault(name));
    }

    private static string TensorName(LoraTarget target) => target switch
    {
        LoraTarget.Query => "attn_q", LoraTarget.Key => "attn_k", LoraTarget.Value => "attn_v", LoraTarget.Output => "attn_output",
        LoraTarget.Gate => "ffn_gate", LoraTarget.Up => "ffn_up", _ => "ffn_down",
    };
}
