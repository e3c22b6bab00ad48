using System.Runtime.InteropServices;
using Dclm.Tensors.Quantization;

namespace Dclm.Tensors.Bench;

/// <summary>The benchmarks' weight matrices: values uniform in [−0.5, 0.5) quantized row by row, 64-byte aligned.</summary>
internal static unsafe class BenchWeights
{
    /// <summary>A (rows, columns) matrix of <paramref name="type"/> drawn from <paramref name="random"/>; free it with NativeMemory.AlignedFree.</summary>
    public static byte* Quantized(GgmlType type, int rows, int columns, Random random)
    {
        long rowBytes = GgmlTypeInfo.ByteCount(type, columns);
        byte* weight = (byte*)NativeMemory.AlignedAlloc((nuint)(rowBytes * rows), 64);
        var values = new float[columns];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++) values[c] = random.NextSingle() - 0.5f;
            Quantizer.QuantizeRow(type, values, new Span<byte>(weight + r * rowBytes, (int)rowBytes));
        }
        return weight;
    }
}
