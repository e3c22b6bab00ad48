using System.Runtime.InteropServices;
using Dclm.Tensors;

namespace Dclm.Models.Tests;

/// <summary>f32 weight matrices in 64-byte-aligned native memory that one test class owns, freed together.</summary>
internal sealed unsafe class NativeMatrices : IDisposable
{
    private readonly List<nint> blocks = [];

    /// <summary>A (rows, columns) matrix holding a copy of <paramref name="values"/>.</summary>
    public WeightMatrix F32(float[] values, int rows, int columns)
    {
        var data = (float*)NativeMemory.AlignedAlloc((nuint)(values.Length * sizeof(float)), 64);
        blocks.Add((nint)data);
        values.CopyTo(new Span<float>(data, values.Length));
        return new WeightMatrix((byte*)data, GgmlType.F32, rows, columns);
    }

    public void Dispose()
    {
        foreach (nint p in blocks) NativeMemory.AlignedFree((void*)p);
        blocks.Clear();
    }
}

/// <summary>How far apart two logit vectors are.</summary>
internal static class LogitDifference
{
    /// <summary>max |expected − actual| / max |expected|.</summary>
    public static double MaxRelativeDifference(float[] expected, float[] actual)
    {
        double diff = 0, scale = 0;
        for (int i = 0; i < expected.Length; i++) { diff = Math.Max(diff, Math.Abs(expected[i] - actual[i])); scale = Math.Max(scale, Math.Abs(expected[i])); }
        return diff / scale;
    }
}
