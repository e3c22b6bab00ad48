using Dclm.Tensors.Compute;

namespace Dclm.Tensors.Tests;

/// <summary>
/// The attention kernels at every instruction level against their scalar references, over head widths and run
/// lengths 0..257 (every SIMD tail, whole and partial blocks of sixteen positions) and key strides wider than a head.
/// </summary>
public class AttentionKernelTests
{
    /// <summary>The unit roundoff of float, 2^−24.</summary>
    private const double Unit = 1.0 / (1 << 24);

    private static IEnumerable<KernelIsa> Levels() => Enum.GetValues<KernelIsa>().Where(KernelIsaInfo.IsSupported);

    private static float[] Floats(int count, Random random) => Enumerable.Range(0, count).Select(_ => random.NextSingle() * 2 - 1).ToArray();

    private static sbyte[] Bytes(int count, Random random) => Enumerable.Range(0, count).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();

    /// <summary>(head width, positions) pairs: every width with a run of 35, and every run length with widths 16, 48 and 128.</summary>
    public static TheoryData<int, int> Shapes()
    {
        var data = new TheoryData<int, int>();
        for (int width = 0; width <= 257; width++) data.Add(width, 35);
        foreach (int width in new[] { 16, 48, 128 })
            for (int count = 0; count <= 257; count += count < 40 ? 1 : 17)
                if (count != 35) data.Add(width, count);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ScoresMatchTheReferenceAtEveryLevel(int headDim, int count)
    {
        var random = new Random(headDim * 1000 + count);
        int stride = headDim + 7;
        var query = Floats(headDim, random);
        var keys = Floats(Math.Max(0, (count - 1) * stride + headDim), random);
        var keys8 = Bytes(keys.Length, random);
        var widened = keys8.Select(k => (float)k).ToArray();
        foreach (bool int8 in new[] { false, true })
        {
            var expected = new float[count + 1];
            if (int8) AttentionScores.Compute(query, keys8, stride, count, expected, KernelIsa.Scalar);
            else AttentionScores.Compute(query, keys, stride, count, expected, KernelIsa.Scalar);
            for (int i = 0; i < count; i++)
            {
                // The reference itself against the exact sum: sequential float sums err by at most n·u·Σ|terms|.
                var (exact, magnitude) = Exact(query, int8 ? widened : keys, i * stride);
                Assert.True(Math.Abs(expected[i] - exact) <= (headDim + 1) * Unit * magnitude + 1e-30, $"reference {headDim}×{count} position {i}");
            }
            foreach (var isa in Levels())
            {
                var scores = new float[count + 1];
                scores[count] = 12345;
                if (int8) AttentionScores.Compute(query, keys8, stride, count, scores, isa);
                else AttentionScores.Compute(query, keys, stride, count, scores, isa);
                Assert.Equal(12345, scores[count]);
                for (int i = 0; i < count; i++)
                {
                    var (_, magnitude) = Exact(query, int8 ? widened : keys, i * stride);
                    Assert.True(Math.Abs(scores[i] - expected[i]) <= 2 * (headDim + 1) * Unit * magnitude + 1e-30,
                        $"{isa} {(int8 ? "int8" : "f32")} width {headDim}, {count} positions, position {i}: {scores[i]} vs {expected[i]}");
                }
            }
        }
    }

    [Fact]
    public void Int8KeysGiveTheBitsOfTheirWidenedFloatsInWholeBlocks()
    {
        // The AVX-512 block path converts each int8 key exactly and then runs the f32 arithmetic.
        if (!KernelIsaInfo.IsSupported(KernelIsa.Avx512)) return;
        var random = new Random(8);
        const int headDim = 64, stride = 256, count = 32;
        var query = Floats(headDim, random);
        var keys = Bytes((count - 1) * stride + headDim, random);
        var widened = keys.Select(k => (float)k).ToArray();
        var scores = new float[count];
        var reference = new float[count];
        AttentionScores.Compute(query, keys, stride, count, scores, KernelIsa.Avx512);
        AttentionScores.Compute(query, widened, stride, count, reference, KernelIsa.Avx512);
        Assert.Equal(reference, scores);
    }

    [Fact]
    public void ABlockOfSixteenGivesEachPositionTheBitsItGetsAlone()
    {
        // Scores of the first sixteen positions of a run of seventeen come from the block path, the last from the
        // one-position path; a run of sixteen starting at each position must give those same bits where the path is the same.
        var random = new Random(5);
        const int headDim = 32, stride = 32;
        var query = Floats(headDim, random);
        var keys = Floats(31 * stride + headDim, random);
        foreach (var isa in Levels())
        {
            var run = new float[32];
            AttentionScores.Compute(query, keys, stride, 32, run, isa);
            var second = new float[16];
            AttentionScores.Compute(query, keys.AsSpan(16 * stride), stride, 16, second, isa);
            Assert.Equal(run[16..], second);
        }
    }

    [Theory]
    [InlineData(16)]
    [InlineData(48)]
    [InlineData(64)]
    [InlineData(80)]
    [InlineData(128)]
    [InlineData(256)]
    public unsafe void FourRowKernelsGiveEachRowTheBitsOfItsOneRowKernel(int headDim)
    {
        // The attention tile's 4-row register tiles (AVX-512) against the one-row kernels: scores against the one-row
        // sixteen-position block, weighted values against the scalar reference's fused multiply-adds in position order.
        if (!KernelIsaInfo.IsSupported(KernelIsa.Avx512)) return;
        var random = new Random(headDim);
        int stride = headDim + 16;
        var queries = Floats(4 * headDim, random);
        var keys = Floats(16 * stride, random);
        var scores = new float[64];
        fixed (float* q = queries)
        fixed (float* k = keys)
        fixed (float* s = scores)
            AttentionScores.Block16Rows4(q, k, stride, headDim, s);
        for (int r = 0; r < 4; r++)
        {
            var alone = new float[16];
            AttentionScores.Compute(queries.AsSpan(r * headDim, headDim), keys, stride, 16, alone, KernelIsa.Avx512);
            Assert.Equal(alone, scores[(r * 16)..(r * 16 + 16)]);
        }
        var weights = Floats(64, random);
        for (int count = 0; count <= 16; count++)
        {
            var start = Floats(4 * headDim, random);
            var output = (float[])start.Clone();
            fixed (float* v = keys)
            fixed (float* w = weights)
            fixed (float* o = output)
                AttentionValues.AddWeightedRows4(v, stride, count, w, 16, o, headDim);
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < headDim; c++)
                {
                    float expected = start[r * headDim + c];
                    for (int i = 0; i < count; i++) expected = MathF.FusedMultiplyAdd(keys[i * stride + c], weights[r * 16 + i], expected);
                    Assert.True(expected == output[r * headDim + c], $"width {headDim}, {count} positions, row {r}, column {c}");
                }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void WeightedValuesEqualTheReferenceBitForBitAtEveryLevel(int headDim, int count)
    {
        var random = new Random(headDim * 1000 + count + 1);
        int stride = headDim + 5;
        var values = Floats(Math.Max(0, (count - 1) * stride + headDim), random);
        var values8 = Bytes(values.Length, random);
        var weights = Floats(count, random);
        var start = Floats(headDim + 1, random);
        foreach (bool int8 in new[] { false, true })
        {
            // The reference: one fused multiply-add per position, in position order.
            var expected = (float[])start.Clone();
            for (int i = 0; i < count; i++)
                for (int c = 0; c < headDim; c++)
                    expected[c] = MathF.FusedMultiplyAdd(int8 ? values8[i * stride + c] : values[i * stride + c], weights[i], expected[c]);
            foreach (var isa in Levels())
            {
                var output = (float[])start.Clone();
                if (int8) AttentionValues.AddWeighted(values8, stride, count, weights, output.AsSpan(0, headDim), isa);
                else AttentionValues.AddWeighted(values, stride, count, weights, output.AsSpan(0, headDim), isa);
                Assert.True(expected.AsSpan().SequenceEqual(output), $"{isa} {(int8 ? "int8" : "f32")} width {headDim}, {count} positions");
            }
        }
    }

    [Fact]
    public void ShortBuffersAreRefused()
    {
        var query = new float[16];
        Assert.Throws<ArgumentException>(() => AttentionScores.Compute(query, new float[2 * 20 + 15], 20, 3, new float[3]));
        Assert.Throws<ArgumentException>(() => AttentionScores.Compute(query, new float[2 * 20 + 16], 20, 3, new float[2]));
        Assert.Throws<ArgumentException>(() => AttentionValues.AddWeighted(new float[2 * 20 + 16], 20, 3, new float[2], new float[16]));
        Assert.Throws<ArgumentException>(() => AttentionValues.AddWeighted(new sbyte[2 * 20 + 15], 20, 3, new float[3], new float[16]));
    }

    private static (double Exact, double Magnitude) Exact(float[] query, float[] keys, int start)
    {
        double sum = 0, magnitude = 0;
        for (int c = 0; c < query.Length; c++)
        {
            double term = (double)query[c] * keys[start + c];
            sum += term;
            magnitude += Math.Abs(term);
        }
        return (sum, magnitude);
    }
}
