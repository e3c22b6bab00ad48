using System.Runtime.InteropServices;
using Dclm.Models;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Quantization;

namespace Dclm.Gpu.Conformance;

/// <summary>
/// Weights of a small model held in native memory, each matrix stored in one chosen type (quantized with the project's
/// <see cref="Quantizer"/>, ggml's reference rounding). Built from float matrices: a fixture's, dequantized, or random ones.
/// </summary>
internal sealed unsafe class HostWeights : IDisposable
{
    private readonly List<nint> _blocks = [];

    /// <summary><paramref name="values"/> (rows, columns) stored as <paramref name="type"/>.</summary>
    public WeightMatrix Matrix(float[] values, int rows, int columns, GgmlType type)
    {
        long bytes = GgmlTypeInfo.ByteCount(type, (long)rows * columns);
        byte* data = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        _blocks.Add((nint)data);
        Quantizer.Quantize(type, values, rows, columns, new Span<byte>(data, checked((int)bytes)));
        return new WeightMatrix(data, type, rows, columns);
    }

    /// <summary>Every value of <paramref name="m"/> as floats. (rows, columns)</summary>
    public static float[] Floats(WeightMatrix m)
    {
        var result = new float[(long)m.Rows * m.Columns];
        for (int r = 0; r < m.Rows; r++) Dequantize.Row(m, r, result.AsSpan(r * m.Columns, m.Columns));
        return result;
    }

    /// <summary>
    /// A copy of <paramref name="source"/> with every matrix but the embedding stored as <paramref name="type"/> (the
    /// embedding is stored as f32, as the host reads one row of it per token). The matrices live until this is disposed.
    /// </summary>
    public ModelWeights Convert(ModelWeights source, GgmlType type)
    {
        WeightMatrix M(WeightMatrix m) => Matrix(Floats(m), m.Rows, m.Columns, type);
        var layers = source.Layers.Select(l => new LayerWeights
        {
            AttentionNorm = l.AttentionNorm, Query = M(l.Query), Key = M(l.Key), Value = M(l.Value), QueryBias = l.QueryBias, KeyBias = l.KeyBias,
            ValueBias = l.ValueBias, QueryNorm = l.QueryNorm, KeyNorm = l.KeyNorm, Output = M(l.Output), FeedForwardNorm = l.FeedForwardNorm,
            Gate = M(l.Gate), Up = M(l.Up), Down = M(l.Down), RopeInverseFrequency = l.RopeInverseFrequency,
        }).ToArray();
        var embedding = source.TokenEmbedding;
        return new ModelWeights(Matrix(Floats(embedding), embedding.Rows, embedding.Columns, GgmlType.F32), layers, source.FinalNorm, M(source.Output));
    }

    public void Dispose()
    {
        foreach (var b in _blocks) NativeMemory.AlignedFree((void*)b);
        _blocks.Clear();
    }
}
