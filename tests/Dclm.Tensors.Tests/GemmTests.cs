using Dclm.Tensors.Compute;

namespace Dclm.Tensors.Tests;

/// <summary>The training matrix product against a float64 triple loop, over sizes that hit every tile edge, at every level.</summary>
public class GemmTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(4, 3, 64)]
    [InlineData(5, 7, 33)]
    [InlineData(9, 300, 65)]
    [InlineData(31, 17, 129)]
    [InlineData(8, 513, 80)]
    [InlineData(41, 70, 16)]
    [InlineData(17, 33, 24)]
    public void MatchesReferenceInEveryStrideMode(int m, int k, int n)
    {
        var random = new Random(m * 1000 + k * 10 + n);
        float[] Fill(int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var a = Fill(m * k); var b = Fill(k * n); var initial = Fill(m * n);
        foreach (bool transposedA in new[] { false, true })
            foreach (bool accumulate in new[] { false, true })
                foreach (int threads in new[] { 1, 2 })
                {
                    using var pool = new ComputePool(threads);
                    // The transposed mode reads A (m, k) from a (k, m) buffer.
                    var source = transposedA ? Transpose(a, m, k) : a;
                    var c = (float[])initial.Clone();
                    if (transposedA) Gemm.Multiply(source, 1, m, b, c, m, k, n, accumulate, pool);
                    else Gemm.Multiply(source, k, 1, b, c, m, k, n, accumulate, pool);
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++)
                        {
                            double expected = accumulate ? initial[i * n + j] : 0;
                            for (int p = 0; p < k; p++) expected += (double)a[i * k + p] * b[p * n + j];
                            Assert.True(Math.Abs(c[i * n + j] - expected) <= 1e-5 * Math.Max(1, Math.Sqrt(k)),
                                $"m={m} k={k} n={n} transposed={transposedA} accumulate={accumulate} threads={threads}: C[{i},{j}] = {c[i * n + j]}, expected {expected}");
                        }
                }
    }

    /// <summary>Every level sums each element as one chain of fused multiply-adds in order: the same bits as the scalar reference.</summary>
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(4, 300, 64)]
    [InlineData(7, 33, 31)]
    [InlineData(13, 257, 131)]
    // Narrow products (n below one wide tile, a LoRA rank): eight-row tiles of 16- and 8-wide vectors and a scalar tail.
    [InlineData(8, 300, 16)]
    [InlineData(33, 257, 16)]
    [InlineData(17, 40, 8)]
    [InlineData(24, 100, 12)]
    [InlineData(19, 64, 40)]
    [InlineData(9, 5, 1)]
    [InlineData(16, 513, 63)]
    public void EveryLevelGivesTheScalarReferenceBits(int m, int k, int n)
    {
        var random = new Random(m + k + n);
        float[] Fill(int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var a = Fill(m * k); var b = Fill(k * n); var initial = Fill(m * n);
        using var pool = new ComputePool(2);
        var expected = (float[])initial.Clone();
        Gemm.Multiply(a, k, 1, b, expected, m, k, n, true, pool, KernelIsa.Scalar);
        foreach (var isa in Enum.GetValues<KernelIsa>().Where(KernelIsaInfo.IsSupported))
        {
            var c = (float[])initial.Clone();
            Gemm.Multiply(a, k, 1, b, c, m, k, n, true, pool, isa);
            Assert.True(expected.AsSpan().SequenceEqual(c), $"{isa} differs from the scalar reference at m={m} k={k} n={n}");
        }
    }

    [Fact]
    public void ResultDoesNotDependOnThreadCount()
    {
        var random = new Random(3);
        var a = Enumerable.Range(0, 37 * 600).Select(_ => (float)random.NextDouble()).ToArray();
        var b = Enumerable.Range(0, 600 * 130).Select(_ => (float)random.NextDouble()).ToArray();
        float[] Run(int threads)
        {
            using var pool = new ComputePool(threads);
            var c = new float[37 * 130];
            Gemm.Multiply(a, 600, 1, b, c, 37, 600, 130, false, pool);
            return c;
        }
        Assert.Equal(Run(1), Run(2));
    }

    [Fact]
    public void RejectsBuffersTooSmallForTheShape()
    {
        using var pool = new ComputePool(1);
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(new float[5], 3, 1, new float[6], new float[4], 2, 3, 2, false, pool));
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(new float[6], 3, 1, new float[5], new float[4], 2, 3, 2, false, pool));
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(new float[6], 3, 1, new float[6], new float[3], 2, 3, 2, false, pool));
    }

    private static float[] Transpose(float[] x, int rows, int columns)
    {
        var result = new float[x.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++) result[c * rows + r] = x[r * columns + c];
        return result;
    }
}
