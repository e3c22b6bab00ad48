using Dclm.Tensors.Compute;
using Dclm.Tensors.Quantization;

namespace Dclm.Tensors.Tests;

public unsafe class WeightCopyTests
{
    /// <summary>
    /// The copy holds the same bytes and shapes, keeps matrices that were back to back adjacent (and
    /// separate ones apart, 64-byte aligned), and a product over the copy equals one over the source.
    /// </summary>
    [Fact]
    public void CopiesKeepBytesAdjacencyAndProducts()
    {
        const int columns = 256;
        long rowBytes = GgmlTypeInfo.ByteCount(GgmlType.Q4_0, columns);
        // 24 rows (16 + 8, back to back), then 37 bytes of gap, then 5 more rows.
        var stored = new byte[rowBytes * 29 + 37];
        Quantizer.Quantize(GgmlType.Q4_0, TestData.Weights(24 * columns, 7), 24, columns, stored.AsSpan(0, (int)(rowBytes * 24)));
        Quantizer.Quantize(GgmlType.Q4_0, TestData.Weights(5 * columns, 9), 5, columns, stored.AsSpan((int)(rowBytes * 24) + 37));
        float[] input = TestData.Weights(columns, 8, 1.0f);
        fixed (byte* p = stored)
        {
            var first = new WeightMatrix(p, GgmlType.Q4_0, 16, columns);
            var adjacent = new WeightMatrix(p + first.ByteLength, GgmlType.Q4_0, 8, columns);
            var apart = new WeightMatrix(p + first.ByteLength + adjacent.ByteLength + 37, GgmlType.Q4_0, 5, columns);
            using var copy = WeightCopy.Create(new[] { first, adjacent, apart });
            Assert.Equal(3, copy.Count);
            Assert.True(copy[0].Data + copy[0].ByteLength == copy[1].Data);
            Assert.Equal(0, (long)copy[2].Data % 64);
            Assert.True(copy[2].Data >= copy[1].Data + copy[1].ByteLength);
            foreach (var (source, copied) in new[] { (first, copy[0]), (adjacent, copy[1]), (apart, copy[2]) })
            {
                Assert.Equal((source.Type, source.Rows, source.Columns), (copied.Type, copied.Rows, copied.Columns));
                Assert.True(new ReadOnlySpan<byte>(source.Data, (int)source.ByteLength).SequenceEqual(new ReadOnlySpan<byte>(copied.Data, (int)copied.ByteLength)));
                var expected = new float[source.Rows];
                var actual = new float[source.Rows];
                MatMul.Multiply(input, 1, source, expected);
                MatMul.Multiply(input, 1, copied, actual);
                Assert.Equal(expected, actual);
            }
        }
    }
}
