using System.Runtime.InteropServices;
using Dclm.Tensors;
using Dclm.Tensors.Compute;

namespace Dclm.Tensors.Bench;

/// <summary>
/// The prefill micro-kernels alone on one thread (thread CPU time per token of a 4096×4096 product):
/// the one-row kernel token by token (what batches under eight tokens use) against the GEMM tiles,
/// without MatMul's threading around them.
/// </summary>
internal static unsafe class TileBench
{
    // Rows per chunk, as MatMulJob takes them: small enough that a chunk stays in L2 across token groups.
    private const int ChunkRows = 32;

    public static void Run()
    {
        const int rows = 4096, columns = 4096, tokens = 64;
        foreach (var type in new[] { GgmlType.Q4_0, GgmlType.Q8_0 })
        {
            long rowBytes = GgmlTypeInfo.ByteCount(type, columns);
            var random = new Random(1);
            byte* weight = BenchWeights.Quantized(type, rows, columns, random);
            nuint stride = Q8Activations.RowBytes(columns);
            byte* activations = (byte*)NativeMemory.AlignedAlloc(stride * tokens, 64);
            float* x = (float*)NativeMemory.AlignedAlloc(columns * 4, 64);
            for (int t = 0; t < tokens; t++)
            {
                for (int c = 0; c < columns; c++) x[c] = random.NextSingle() - 0.5f;
                Q8Activations.Quantize(x, columns, Q8Activations.Row(activations, columns, t));
            }
            float* results = (float*)NativeMemory.AlignedAlloc(64, 64);
            var one = DotKernels.Q8(type, KernelIsa.Avx2);
            double oneMs = Time(() =>
            {
                for (int chunk = 0; chunk < rows; chunk += ChunkRows)
                    for (int r = chunk; r < chunk + ChunkRows; r++)
                        for (int t = 0; t < tokens; t++) results[0] += one(weight + r * rowBytes, Q8Activations.Row(activations, columns, t), columns / 32);
            });
            string lanes = "";
            foreach (KernelIsa isa in new[] { KernelIsa.Avx2, KernelIsa.AvxVnni, KernelIsa.Avx512 })
            {
                if (!KernelIsaInfo.IsSupported(isa)) continue;
                var kernels = DotKernels.Q8Tiles(type, isa);
                int width = kernels.Width;
                nuint tileBytes = Q8Tiles.TileBytes(columns, width);
                byte* tiles = (byte*)NativeMemory.AlignedAlloc(tileBytes * (nuint)(tokens / width), 64);
                for (int t = 0; t < tokens; t += width) Q8Tiles.Build(activations, columns, t, width, tiles + tileBytes * (nuint)(t / width), width);
                float* pair = (float*)NativeMemory.AlignedAlloc(4 * 16 * 4, 64);
                double fourRowsMs = Time(() =>
                {
                    for (int chunk = 0; chunk < rows; chunk += ChunkRows)
                        for (int t = 0; t < tokens; t += width)
                            for (int r = chunk; r < chunk + ChunkRows; r += 4)
                                kernels.Rows4(weight + r * rowBytes, rowBytes, tiles + tileBytes * (nuint)(t / width), columns / 32, pair);
                });
                lanes += $"   {isa}: 4 rows x {width} tokens {fourRowsMs / tokens,7:F3}";
                NativeMemory.AlignedFree(tiles);
                NativeMemory.AlignedFree(pair);
            }
            Console.WriteLine($"{GgmlTypeInfo.Name(type),-5} one row x one token {oneMs / tokens,7:F3} cpu-ms/token{lanes}");
            NativeMemory.AlignedFree(weight);
            NativeMemory.AlignedFree(activations);
            NativeMemory.AlignedFree(x);
            NativeMemory.AlignedFree(results);
        }
    }

    private static double Time(Action action) => ThreadClock.Best(action, rounds: 3);
}
