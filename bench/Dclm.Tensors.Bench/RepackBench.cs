using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Numerics;
using Dclm.Tensors.Quantization;
using X86 = System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Bench;

/// <summary>
/// Would a repacked Q4_0 layout (four rows' blocks interleaved, as llama.cpp's q4_0 repack does for eight) speed up
/// prefill? The AVX-512 sixteen-token tile kernel as MatMul runs it (<see cref="DotQ4_0WideTiles"/>, four rows read from
/// four places, each block's nibbles unpacked and its f16 scale looked up per row; timed before and after the other) against the same arithmetic over four rows interleaved
/// per block: their four f16 scales in 8 bytes, then their 64 nibble bytes, read by one 512-bit load. The interleaved kernel is written here
/// only, as an upper bound of what the layout gives; both must give the same bits (checked). One thread, thread CPU
/// time per token of a 4096×4096 product, 64 tokens, rows in chunks of 32.
/// </summary>
internal static unsafe class RepackBench
{
    private const int Rows = 4096, Columns = 4096, Tokens = 64, ChunkRows = 32, Blocks = Columns / 32;

    public static void Run()
    {
        if (!KernelIsaInfo.IsSupported(KernelIsa.Avx512)) { Console.WriteLine("repack: needs AVX-512"); return; }
        long rowBytes = GgmlTypeInfo.ByteCount(GgmlType.Q4_0, Columns);
        byte* weight = (byte*)NativeMemory.AlignedAlloc((nuint)(rowBytes * Rows), 64);
        byte* repacked = (byte*)NativeMemory.AlignedAlloc((nuint)(rowBytes * Rows), 64);
        var random = new Random(1);
        var values = new float[Columns];
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < Columns; c++) values[c] = random.NextSingle() - 0.5f;
            Quantizer.QuantizeRow(GgmlType.Q4_0, values, new Span<byte>(weight + r * rowBytes, (int)rowBytes));
        }
        // Group g of four rows, block b at (g·blocks + b)·72: scales of rows 0-3, then each row's 16 nibble bytes.
        for (int g = 0; g < Rows / 4; g++)
            for (int b = 0; b < Blocks; b++)
            {
                byte* to = repacked + ((long)g * Blocks + b) * 72;
                for (int r = 0; r < 4; r++)
                {
                    byte* from = weight + (4L * g + r) * rowBytes + b * 18;
                    *(ushort*)(to + 2 * r) = *(ushort*)from;
                    new ReadOnlySpan<byte>(from + 2, 16).CopyTo(new Span<byte>(to + 8 + 16 * r, 16));
                }
            }
        nuint stride = Q8Activations.RowBytes(Columns);
        byte* activations = (byte*)NativeMemory.AlignedAlloc(stride * Tokens, 64);
        float* x = (float*)NativeMemory.AlignedAlloc(Columns * 4, 64);
        for (int t = 0; t < Tokens; t++)
        {
            for (int c = 0; c < Columns; c++) x[c] = random.NextSingle() - 0.5f;
            Q8Activations.Quantize(x, Columns, Q8Activations.Row(activations, Columns, t));
        }
        // Through the kernel table as MatMul takes it (its static constructor readies the f16 table before any kernel is
        // compiled; called directly from here, the JIT kept the table's initialisation check in the loop and ran 2.5x slower).
        var used = DotKernels.Q8Tiles(GgmlType.Q4_0, KernelIsa.Avx512);
        const int width = Q8Tiles.WideTokens;
        nuint tileBytes = Q8Tiles.TileBytes(Columns, width);
        byte* tiles = (byte*)NativeMemory.AlignedAlloc(tileBytes * (Tokens / width), 64);
        for (int t = 0; t < Tokens; t += width) Q8Tiles.Build(activations, Columns, t, width, tiles + tileBytes * (nuint)(t / width), width);
        float* plain = (float*)NativeMemory.AlignedAlloc(64 * 4, 64), packed = (float*)NativeMemory.AlignedAlloc(64 * 4, 64);

        for (int g = 0; g < Rows / 4; g += 97)
        {
            used.Rows4(weight + 4L * g * rowBytes, rowBytes, tiles, Blocks, plain);
            Interleaved(repacked + (long)g * Blocks * 72, tiles, Blocks, packed);
            if (!new ReadOnlySpan<float>(plain, 64).SequenceEqual(new ReadOnlySpan<float>(packed, 64)))
                throw new InvalidOperationException($"the interleaved kernel differs from the plain one at rows {4 * g}..{4 * g + 3}");
        }
        double plainMs = Time(() =>
        {
            for (int chunk = 0; chunk < Rows; chunk += ChunkRows)
                for (int t = 0; t < Tokens; t += width)
                    for (int r = chunk; r < chunk + ChunkRows; r += 4)
                        used.Rows4(weight + r * rowBytes, rowBytes, tiles + tileBytes * (nuint)(t / width), Blocks, plain);
        });
        double packedMs = Time(() =>
        {
            for (int chunk = 0; chunk < Rows; chunk += ChunkRows)
                for (int t = 0; t < Tokens; t += width)
                    for (int r = chunk; r < chunk + ChunkRows; r += 4)
                        Interleaved(repacked + (long)(r / 4) * Blocks * 72, tiles + tileBytes * (nuint)(t / width), Blocks, packed);
        });
        // Timed again after the interleaved kernel so that neither gains from going first.
        plainMs = Math.Min(plainMs, Time(() =>
        {
            for (int chunk = 0; chunk < Rows; chunk += ChunkRows)
                for (int t = 0; t < Tokens; t += width)
                    for (int r = chunk; r < chunk + ChunkRows; r += 4)
                        used.Rows4(weight + r * rowBytes, rowBytes, tiles + tileBytes * (nuint)(t / width), Blocks, plain);
        }));
        Console.WriteLine($"q4_0 prefill tile, 4 rows x {width} tokens, cpu-ms/token: plain layout (used) {plainMs / Tokens:F3}, " +
            $"4 rows interleaved {packedMs / Tokens:F3} ({plainMs / packedMs:F2}x), same bits");
        foreach (var p in new[] { (nint)weight, (nint)repacked, (nint)activations, (nint)x, (nint)tiles, (nint)plain, (nint)packed })
            NativeMemory.AlignedFree((void*)p);
    }

    /// <summary><see cref="DotQ4_0WideTiles"/>'s Rows4 over four rows interleaved per 72-byte block.</summary>
    private static void Interleaved(byte* group, byte* tile, int blocks, float* results)
    {
        byte* unpacked = stackalloc byte[128];
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        Vector512<short> ones = Vector512<short>.One;
        var low = Vector512.Create((byte)0x0F);
        ushort* rowScales = stackalloc ushort[4];
        for (int b = 0; b < blocks; b++, tile += Q8Tiles.WideBlockBytes, group += 72)
        {
            // Row r's levels 0-15 (low nibbles) at 16r, its levels 16-31 (high nibbles) at 64 + 16r.
            var bytes = Vector512.Load(group + 8);
            *(long*)rowScales = *(long*)group;
            (bytes & low).Store(unpacked);
            ((bytes.AsUInt16() >>> 4).AsByte() & low).Store(unpacked + 64);
            Vector512<short> sum0 = default, sum1 = default, sum2 = default, sum3 = default;
            for (int j = 0; j < 8; j++)
            {
                Vector512<sbyte> a = Vector512.Load((sbyte*)tile + j * 64);
                int at = (j < 4 ? 0 : 64) + (j & 3) * 4;
                sum0 += X86.Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(unpacked + at)).AsByte(), a);
                sum1 += X86.Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(unpacked + 16 + at)).AsByte(), a);
                sum2 += X86.Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(unpacked + 32 + at)).AsByte(), a);
                sum3 += X86.Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(unpacked + 48 + at)).AsByte(), a);
            }
            Vector512<int> offsets = Vector512.Load((int*)(tile + Q8Tiles.WideOffsetsAt));
            Vector512<float> scales = Vector512.Load((float*)(tile + Q8Tiles.WideScalesAt));
            acc0 = Accumulate(X86.Avx512BW.MultiplyAddAdjacent(sum0, ones), offsets, scales, HalfTable.ToSingle(rowScales[0]), acc0);
            acc1 = Accumulate(X86.Avx512BW.MultiplyAddAdjacent(sum1, ones), offsets, scales, HalfTable.ToSingle(rowScales[1]), acc1);
            acc2 = Accumulate(X86.Avx512BW.MultiplyAddAdjacent(sum2, ones), offsets, scales, HalfTable.ToSingle(rowScales[2]), acc2);
            acc3 = Accumulate(X86.Avx512BW.MultiplyAddAdjacent(sum3, ones), offsets, scales, HalfTable.ToSingle(rowScales[3]), acc3);
        }
        acc0.Store(results);
        acc1.Store(results + 16);
        acc2.Store(results + 32);
        acc3.Store(results + 48);
    }

    private static Vector512<float> Accumulate(Vector512<int> sums, Vector512<int> offsets, Vector512<float> scales, float rowScale, Vector512<float> accumulator) =>
        Vector512.FusedMultiplyAdd(X86.Avx512F.ConvertToVector512Single(sums - offsets), Vector512.Create(rowScale) * scales, accumulator);

    private static double Time(Action action) => ThreadClock.Best(action, rounds: 5);
}
