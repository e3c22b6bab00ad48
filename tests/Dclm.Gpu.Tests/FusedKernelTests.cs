using Dclm.Gpu.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace Dclm.Gpu.Tests;

/// <summary>
/// Each fused kernel against the unfused launches it replaces, on random rows: the same bits in every output (the
/// unfused kernels are the ones conformance checks against the CPU engine, so equal bits keep that check).
/// </summary>
public sealed class FusedKernelTests(CpuAcceleratorFixture accelerator) : IClassFixture<CpuAcceleratorFixture>
{
    private Accelerator A => accelerator.Device.Accelerator;
    // Kernels compile once per accelerator; the fixture's lives as long as the class's tests.
    private GpuKernels Kernels => _kernels?.Accelerator == A ? _kernels : _kernels = new GpuKernels(A);
    private static GpuKernels? _kernels;

    private static float[] RandomValues(int length, int seed, float scale = 2f)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
    }

    private static void AssertSameBits<T>(T[] expected, T[] actual) where T : unmanaged
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(expected[i].Equals(actual[i]), $"element {i}: {expected[i]} vs {actual[i]}");
    }

    [Theory]
    [InlineData(3, 96, true, false, true)]
    [InlineData(2, 160, false, false, true)]
    [InlineData(4, 64, true, true, true)]
    [InlineData(3, 96, false, true, false)]
    public void NormRowsEqualsGatherNormAndQuantize(int rows, int width, bool layerNorm, bool gather, bool quantize)
    {
        var k = Kernels;
        int inputRows = rows + 2;
        using var x = A.Allocate1D(RandomValues(inputRows * width, 1, 5f));
        using var gain = A.Allocate1D(RandomValues(width, 2));
        using var indices = A.Allocate1D(Enumerable.Range(0, rows).Select(r => (r * 3 + 1) % inputRows).ToArray());
        using var expectedY = A.Allocate1D<float>(rows * width);
        using var actualY = A.Allocate1D<float>(rows * width);
        using var expectedLevels = A.Allocate1D<int>(rows * width / 4);
        using var actualLevels = A.Allocate1D<int>(rows * width / 4);
        using var expectedScales = A.Allocate1D<float>(rows * width / 32);
        using var actualScales = A.Allocate1D<float>(rows * width / 32);
        // Without Quantize neither path writes levels: both stay zero.
        foreach (var b in new[] { expectedLevels, actualLevels }) b.MemSetToZero();
        foreach (var b in new[] { expectedScales, actualScales }) b.MemSetToZero();
        var shape = new NormShape { InputStride = width, OutputStride = width, Pieces = 1, Width = width, LayerNorm = layerNorm ? 1 : 0, Epsilon = 1e-5f };
        ArrayView<float> source = x.View;
        if (gather)
        {
            k.GatherRows(rows * width, x.View, indices.View, width, expectedY.View);
            source = expectedY.View;
        }
        k.Norm(new KernelConfig(rows, k.NormThreads), source, expectedY.View, gain.View, shape);
        if (quantize) k.QuantizeToQ8(rows * width / 32, expectedY.View, expectedLevels.View, expectedScales.View);
        k.NormRows(new KernelConfig(rows, k.NormThreads), x.View, indices.View, actualY.View, gain.View,
            shape with { Gather = gather ? 1 : 0, Quantize = quantize ? 1 : 0 }, actualLevels.View, actualScales.View);
        A.Synchronize();
        AssertSameBits(expectedY.GetAsArray1D(), actualY.GetAsArray1D());
        AssertSameBits(expectedLevels.GetAsArray1D(), actualLevels.GetAsArray1D());
        AssertSameBits(expectedScales.GetAsArray1D(), actualScales.GetAsArray1D());
        if (quantize) Assert.Contains(actualLevels.GetAsArray1D(), level => level != 0);
    }

    [Theory]
    [InlineData(1, 64)]
    [InlineData(3, 96)]
    public void SwiGluQuantizeEqualsSwiGluThenQuantize(int tokens, int width)
    {
        var k = Kernels;
        using var gateUp = A.Allocate1D(RandomValues(tokens * 2 * width, 3, 6f));
        using var expectedHidden = A.Allocate1D<float>(tokens * width);
        using var actualHidden = A.Allocate1D<float>(tokens * width);
        using var expectedLevels = A.Allocate1D<int>(tokens * width / 4);
        using var actualLevels = A.Allocate1D<int>(tokens * width / 4);
        using var expectedScales = A.Allocate1D<float>(tokens * width / 32);
        using var actualScales = A.Allocate1D<float>(tokens * width / 32);
        k.SwiGlu(tokens * width, gateUp.View, width, expectedHidden.View);
        k.QuantizeToQ8(tokens * width / 32, expectedHidden.View, expectedLevels.View, expectedScales.View);
        k.SwiGluQuantize(tokens * width / 32, gateUp.View, width, actualHidden.View, actualLevels.View, actualScales.View);
        A.Synchronize();
        AssertSameBits(expectedHidden.GetAsArray1D(), actualHidden.GetAsArray1D());
        AssertSameBits(expectedLevels.GetAsArray1D(), actualLevels.GetAsArray1D());
        AssertSameBits(expectedScales.GetAsArray1D(), actualScales.GetAsArray1D());
    }

    /// <summary>open_lm (full-width LayerNorm, half-split RoPE), Qwen3 (per-head RMS), Qwen2 (biases), Llama (adjacent pairs), GQA throughout.</summary>
    [Theory]
    [InlineData(PrepareShape.FullWidth, true, true, false, false)]
    [InlineData(PrepareShape.PerHead, false, true, false, false)]
    [InlineData(PrepareShape.NoNorm, false, true, false, true)]
    [InlineData(PrepareShape.NoNorm, false, true, true, false)]
    [InlineData(PrepareShape.FullWidth, false, false, false, true)]
    public void PrepareQueryKeyValueEqualsTheUnfusedLaunches(int norm, bool layerNorm, bool rotary, bool adjacent, bool bias)
    {
        var k = Kernels;
        const int tokens = 3, heads = 4, kvHeads = 2, headDim = 16, half = headDim / 2, qd = heads * headDim, kvd = kvHeads * headDim, stride = qd + 2 * kvd;
        const int cacheRows = 8;
        var qkvData = RandomValues(tokens * stride, 4, 3f);
        using var expected = A.Allocate1D(qkvData);
        using var actual = A.Allocate1D(qkvData);
        int normWidth = norm == PrepareShape.PerHead ? headDim : 0;
        using var queryNorm = A.Allocate1D(RandomValues(normWidth > 0 ? normWidth : qd, 5));
        using var keyNorm = A.Allocate1D(RandomValues(normWidth > 0 ? normWidth : kvd, 6));
        using var queryBias = A.Allocate1D(RandomValues(qd, 7));
        using var keyBias = A.Allocate1D(RandomValues(kvd, 8));
        using var valueBias = A.Allocate1D(RandomValues(kvd, 9));
        using var cos = A.Allocate1D(RandomValues(tokens * half, 10, 1f));
        using var sin = A.Allocate1D(RandomValues(tokens * half, 11, 1f));
        using var rows = A.Allocate1D(new[] { 5, 0, 7 });
        using var expectedKeys = A.Allocate1D<float>(cacheRows * kvd);
        using var expectedValues = A.Allocate1D<float>(cacheRows * kvd);
        using var actualKeys = A.Allocate1D<float>(cacheRows * kvd);
        using var actualValues = A.Allocate1D<float>(cacheRows * kvd);
        // Rows the tokens do not write stay zero in both caches.
        foreach (var b in new[] { expectedKeys, expectedValues, actualKeys, actualValues }) b.MemSetToZero();
        if (bias)
        {
            k.AddBias(tokens * qd, expected.View, stride, 0, qd, queryBias.View);
            k.AddBias(tokens * kvd, expected.View, stride, qd, kvd, keyBias.View);
            k.AddBias(tokens * kvd, expected.View, stride, qd + kvd, kvd, valueBias.View);
        }
        var normShape = new NormShape { InputStride = stride, OutputStride = stride, LayerNorm = layerNorm ? 1 : 0, Epsilon = 1e-6f };
        if (norm == PrepareShape.FullWidth)
        {
            k.Norm(new KernelConfig(tokens, k.NormThreads), expected.View, expected.View, queryNorm.View, normShape with { Pieces = 1, Width = qd });
            k.Norm(new KernelConfig(tokens, k.NormThreads), expected.View, expected.View, keyNorm.View,
                normShape with { Pieces = 1, Width = kvd, InputOffset = qd, OutputOffset = qd });
        }
        else if (norm == PrepareShape.PerHead)
        {
            k.Norm(new KernelConfig(tokens * heads, k.NormThreads), expected.View, expected.View, queryNorm.View, normShape with { Pieces = heads, Width = headDim });
            k.Norm(new KernelConfig(tokens * kvHeads, k.NormThreads), expected.View, expected.View, keyNorm.View,
                normShape with { Pieces = kvHeads, Width = headDim, InputOffset = qd, OutputOffset = qd });
        }
        if (rotary)
            k.Rope(tokens * (heads + kvHeads) * half, expected.View, cos.View, sin.View,
                new RopeShape { Stride = stride, Heads = heads, KeyValueHeads = kvHeads, HeadDim = headDim, QueryDim = qd, AdjacentPairs = adjacent ? 1 : 0 });
        k.StoreKeyValue(tokens * kvd, expected.View, stride, qd, kvd, rows.View, expectedKeys.View, expectedValues.View);
        var shape = new PrepareShape { Stride = stride, QueryDim = qd, KeyValueDim = kvd, Heads = heads, KeyValueHeads = kvHeads, HeadDim = headDim, Norm = norm,
            LayerNorm = layerNorm ? 1 : 0, Rotary = rotary ? 1 : 0, AdjacentPairs = adjacent ? 1 : 0, Bias = bias ? 1 : 0, Epsilon = 1e-6f };
        k.PrepareQueryKeyValue(new KernelConfig(2 * tokens, k.NormThreads), actual.View, queryNorm.View, keyNorm.View, queryBias.View, keyBias.View,
            valueBias.View, cos.View, sin.View, rows.View, actualKeys.View, actualValues.View, shape);
        A.Synchronize();
        var expectedRows = expected.GetAsArray1D();
        AssertSameBits(expectedRows, actual.GetAsArray1D());
        AssertSameBits(expectedKeys.GetAsArray1D(), actualKeys.GetAsArray1D());
        AssertSameBits(expectedValues.GetAsArray1D(), actualValues.GetAsArray1D());
        // The case changed the rows (so equal outputs are not both the input left alone).
        Assert.NotEqual(qkvData, expectedRows);
    }
}
