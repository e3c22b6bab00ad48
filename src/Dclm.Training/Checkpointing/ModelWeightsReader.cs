using Dclm.Checkpoints;
using Dclm.Models;
using Dclm.Tensors;
using Dclm.Tensors.Compute;

namespace Dclm.Training.Checkpointing;

/// <summary>Reads a model (Hugging Face directory or GGUF, any element type) into fp32 training parameters.</summary>
public static class ModelWeightsReader
{
    /// <summary>The config of the model at <paramref name="path"/>.</summary>
    public static ModelConfig ReadConfig(string path)
    {
        using var pool = new ComputePool(1);
        using var loaded = ModelLoader.Load(path, pool, WeightLoading.Mapped);
        return loaded.Config;
    }

    /// <summary>Fills <paramref name="parameters"/> from the model at <paramref name="path"/>, which must have their shape.</summary>
    public static void Read(string path, ModelParameters parameters)
    {
        using var pool = new ComputePool(1);
        using var loaded = ModelLoader.Load(path, pool, WeightLoading.Mapped);
        Read(loaded, parameters);
    }

    /// <summary>Fills <paramref name="parameters"/> from a loaded model of the same shape.</summary>
    public static void Read(LoadedModel loaded, ModelParameters parameters)
    {
        string path = loaded.Path;
        var c = parameters.Config;
        var found = loaded.Config;
        if (found.Dim != c.Dim || found.Layers != c.Layers || found.Heads != c.Heads || found.HiddenDim != c.HiddenDim
            || found.VocabularySize != c.VocabularySize || found.TiedEmbeddings != c.TiedEmbeddings || found.QueryKeyNorm != c.QueryKeyNorm || found.Architecture != Architecture.OpenLm)
            throw new InvalidDataException($"{path}: the model's shape (dim {found.Dim}, layers {found.Layers}, heads {found.Heads}, vocab {found.VocabularySize}) does not match the training config");
        var w = loaded.Model.Weights;
        int d = c.Dim, h = c.HiddenDim;
        Matrix(w.TokenEmbedding, parameters.Embedding.Values, 0);
        if (!c.TiedEmbeddings) Matrix(w.Output, parameters.Head.Values, 0);
        w.FinalNorm.CopyTo(parameters.FinalNorm.Values, 0);
        for (int i = 0; i < c.Layers; i++)
        {
            var l = w.Layers[i];
            var p = parameters.Layers[i];
            l.AttentionNorm.CopyTo(p.AttentionNorm.Values, 0);
            Matrix(l.Query, p.InProjection.Values, 0);
            Matrix(l.Key, p.InProjection.Values, d * d);
            Matrix(l.Value, p.InProjection.Values, 2 * d * d);
            if (p.QueryNorm is { } qn) l.QueryNorm!.CopyTo(qn.Values, 0);
            if (p.KeyNorm is { } kn) l.KeyNorm!.CopyTo(kn.Values, 0);
            Matrix(l.Output, p.OutProjection.Values, 0);
            l.FeedForwardNorm.CopyTo(p.FeedForwardNorm.Values, 0);
            Matrix(l.Gate, p.GateUp.Values, 0);
            Matrix(l.Up, p.GateUp.Values, h * d);
            Matrix(l.Down, p.Down.Values, 0);
        }
    }

    private static void Matrix(in WeightMatrix m, float[] destination, int offset)
    {
        for (int r = 0; r < m.Rows; r++) Dequantize.Row(m, r, destination.AsSpan(offset + r * m.Columns, m.Columns));
    }
}
