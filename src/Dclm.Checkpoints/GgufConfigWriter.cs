using Dclm.Formats.Gguf;
using Dclm.Models;

namespace Dclm.Checkpoints;

/// <summary>Writes a <see cref="ModelConfig"/> as GGUF metadata, the inverse of what the GGUF model reader reads.</summary>
public static class GgufConfigWriter
{
    /// <summary>
    /// Adds general.architecture (<see cref="Architecture.Name"/>: "openlm", "llama", "qwen2", "qwen3"), general.name and every
    /// {arch}.* hyper-parameter key; returns the architecture name.
    /// </summary>
    public static string Write(GgufWriter writer, ModelConfig c, string name)
    {
        bool openLm = c.Architecture == Architecture.OpenLm;
        string arch = c.Architecture.Name;
        writer.AddString(GgufModelKeys.Architecture, arch);
        writer.AddString(GgufModelKeys.Name, name);
        writer.AddUInt32(GgufModelKeys.ContextLength(arch), (uint)c.ContextLength);
        writer.AddUInt32(GgufModelKeys.EmbeddingLength(arch), (uint)c.Dim);
        writer.AddUInt32(GgufModelKeys.BlockCount(arch), (uint)c.Layers);
        writer.AddUInt32(GgufModelKeys.FeedForwardLength(arch), (uint)c.HiddenDim);
        writer.AddUInt32(GgufModelKeys.HeadCount(arch), (uint)c.Heads);
        writer.AddUInt32(GgufModelKeys.HeadCountKv(arch), (uint)c.KeyValueHeads);
        writer.AddUInt32(GgufModelKeys.RopeDimensionCount(arch), (uint)c.HeadDim);
        writer.AddFloat32(GgufModelKeys.RopeFreqBase(arch), (float)c.RopeTheta);
        writer.AddUInt32(GgufModelKeys.VocabSize(arch), (uint)c.VocabularySize);
        if (openLm)
        {
            writer.AddFloat32(GgufModelKeys.LayerNormEpsilon(arch), c.NormEps);
            writer.AddBool(GgufModelKeys.QkNorm(arch), c.QueryKeyNorm == QueryKeyNorm.FullWidth);
            writer.AddString(GgufModelKeys.PositionalEmbedding(arch), PositionEncodingNames.Name(c.Positions));
        }
        else
        {
            writer.AddFloat32(GgufModelKeys.RmsNormEpsilon(arch), c.NormEps);
        }
        if (c.SlidingWindow > 0) writer.AddUInt32(GgufModelKeys.SlidingWindow(arch), (uint)c.SlidingWindow);
        if (c.HeadDimension > 0)
        {
            writer.AddUInt32(GgufModelKeys.KeyLength(arch), (uint)c.HeadDim);
            writer.AddUInt32(GgufModelKeys.ValueLength(arch), (uint)c.HeadDim);
        }
        return arch;
    }
}
