using Dclm.Checkpoints;
using Dclm.Models;
using Dclm.Tensors;
using Dclm.Tensors.Compute;

namespace Dclm.Training.Checkpointing;

/// <summary>Reads a model (Hugging Face directory or GGUF, any element type) into the flat fp32 parameter array.</summary>
public static class ModelWeightsReader
{
    /// <summary>The config of the model at <paramref name="path"/>.</summary>
    public static ModelConfig ReadConfig(string path)
    {
        using var pool = new ComputePool(1);
        using var loaded = ModelLoader.Load(path, pool, WeightLoading.Mapped);
        return loaded.Config;
    }

    /// <summary>Fills <paramref name="parameters"/> from the model at <paramref name="path"/>, which must match <paramref name="layout"/>.</summary>
    public static void Read(string path, ParameterLayout layout, float[] parameters)
    {
        using var pool = new ComputePool(1);
        using var loaded = ModelLoader.Load(path, pool, WeightLoading.Mapped);
        var c = layout.Config;
        var found = loaded.Config;
        if (found.Dim != c.Dim || found.Layers != c.Layers || found.Heads != c.Heads || found.HiddenDim != c.HiddenDim
            || found.VocabularySize != c.VocabularySize || found.TiedEmbeddings != c.TiedEmbeddings || found.QueryKeyNorm != c.QueryKeyNorm || found.Architecture != Architecture.OpenLm)
            throw new InvalidDataException($"{path}: the model's shape (dim {found.Dim}, layers {found.Layers}, heads {found.Heads}, vocab {found.VocabularySize}) does not match the training config");
        var w = loaded.Model.Weights;
        int d = c.Dim, h = c.HiddenDim;
        Matrix(w.TokenEmbedding, parameters, layout.Embedding.Offset);
        if (!c.TiedEmbeddings) Matrix(w.Output, parameters, layout.Head.Offset);
        w.FinalNorm.CopyTo(parameters, layout.FinalNorm.Offset);
        for (int i = 0; i < c.Layers; i++)
        {
            var l = w.Layers[i];
            var p = layout.Layers[i];
            l.AttentionNorm.CopyTo(parameters, p.AttentionNorm.Offset);
            Matrix(l.Query, parameters, p.InProjection.Offset);
            Matrix(l.Key, parameters, p.InProjection.Offset + d * d);
            Matrix(l.Value, parameters, p.InProjection.Offset + 2 * d * d);
            if (p.QueryNorm is { } qn) l.QueryNorm!.CopyTo(parameters, qn.Offset);
            if (p.KeyNorm is { } kn) l.KeyNorm!.CopyTo(parameters, kn.Offset);
            Matrix(l.Output, parameters, p.OutProjection.Offset);
            l.FeedForwardNorm.CopyTo(parameters, p.FeedForwardNorm.Offset);
            Matrix(l.Gate, parameters, p.GateUp.Offset);
            Matrix(l.Up, parameters, p.GateUp.Offset + h * d);
            Matrix(l.Down, parameters, p.Down.Offset);
        }
    }

    private static void Matrix(in WeightMatrix m, float[] destination, int offset)
    {
        for (int r = 0; r < m.Rows; r++) Dequantize.Row(m, r, destination.AsSpan(offset + r * m.Columns, m.Columns));
    }
}
