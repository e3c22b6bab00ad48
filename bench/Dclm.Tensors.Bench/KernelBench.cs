using System.Runtime.InteropServices;
using Dclm.Tensors;
using Dclm.Tensors.Compute;

namespace Dclm.Tensors.Bench;

/// <summary>Each dot kernel alone, one thread, over a decode-sized matrix: isolates kernel speed from threading.</summary>
internal static unsafe class KernelBench
{
    public static void Run(int rows = 4096)
    {
        const int columns = 4096;
        foreach (var type in new[] { GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.F16, GgmlType.BF16 })
        {
            long rowBytes = GgmlTypeInfo.ByteCount(type, columns);
            var random = new Random(1);
            byte* weight = BenchWeights.Quantized(type, rows, columns, random);
            float* x = (float*)NativeMemory.AlignedAlloc(columns * 4, 64);
            for (int c = 0; c < columns; c++) x[c] = random.NextSingle() - 0.5f;
            byte* buffer = (byte*)NativeMemory.AlignedAlloc(Q8Activations.RowBytes(columns) + Q8KActivations.RowBytes(columns), 64);
            bool k = type is GgmlType.Q4_K or GgmlType.Q6_K;
            var q8 = Q8Activations.Row(buffer, columns, 0);
            var q8k = Q8KActivations.Row(buffer, columns, 0);
            if (k) Q8KActivations.Quantize(x, columns, q8k); else if (type is GgmlType.Q8_0 or GgmlType.Q4_0) Q8Activations.Quantize(x, columns, q8);
            foreach (KernelIsa isa in Enum.GetValues<KernelIsa>())
            {
                if (!KernelIsaInfo.IsSupported(isa)) continue;
                float sink = 0;
                double best = ThreadClock.BestPerCall(() =>
                {
                    if (type is GgmlType.F16 or GgmlType.BF16)
                    {
                        var kernel = DotKernels.Float(type, isa);
                        for (int r = 0; r < rows; r++) sink += kernel(x, weight + r * rowBytes, columns);
                    }
                    else if (k)
                    {
                        var kernel = DotKernels.Q8K(type, isa);
                        for (int r = 0; r < rows; r++) sink += kernel(weight + r * rowBytes, q8k, columns / 256);
                    }
                    else
                    {
                        var kernel = DotKernels.Q8(type, isa);
                        for (int r = 0; r < rows; r++) sink += kernel(weight + r * rowBytes, q8, columns / 32);
                    }
                }, rounds: 5, wallMilliseconds: 100);
                Console.WriteLine($"{GgmlTypeInfo.Name(type),-5} {isa,-7} {best,8:F3} cpu-ms  {rowBytes * rows / best / 1e6,6:F1} GB/s  (sum {sink:E2})");
            }
            NativeMemory.AlignedFree(weight);
            NativeMemory.AlignedFree(x);
            NativeMemory.AlignedFree(buffer);
        }
    }

    /// <summary>llama.cpp's single-thread matrix-vector product on the same shape, in thread CPU time.</summary>
    public static void RunPeer()
    {
        if (!LlamaCppPeer.TryLoad(out string info)) { Console.WriteLine("llama.cpp peer unavailable: " + info); return; }
        const int rows = 4096, columns = 4096;
        foreach (var type in new[] { GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.F16 })
        {
            long rowBytes = GgmlTypeInfo.ByteCount(type, columns);
            var random = new Random(1);
            byte* weight = BenchWeights.Quantized(type, rows, columns, random);
            float* x = (float*)NativeMemory.AlignedAlloc(columns * 4, 64);
            float* y = (float*)NativeMemory.AlignedAlloc(rows * 4, 64);
            byte* scratch = (byte*)NativeMemory.AlignedAlloc(columns * 2, 64);
            for (int c = 0; c < columns; c++) x[c] = random.NextSingle() - 0.5f;
            double best = ThreadClock.BestPerCall(() => LlamaCppPeer.MatVec((int)type, weight, rowBytes, rows, columns, x, y, scratch),
                rounds: 5, wallMilliseconds: 100);
            Console.WriteLine($"{GgmlTypeInfo.Name(type),-5} llama.cpp {best,8:F3} cpu-ms  {rowBytes * rows / best / 1e6,6:F1} GB/s");
            NativeMemory.AlignedFree(weight);
            NativeMemory.AlignedFree(x);
            NativeMemory.AlignedFree(y);
            NativeMemory.AlignedFree(scratch);
        }
    }

    /// <summary>Whole products through MatMul on one thread, one token and sixteen, at every level (thread CPU time per token).</summary>
    public static void RunPrefill()
    {
        const int rows = 4096, columns = 4096;
        using var pool = new ComputePool(1);
        foreach (var type in new[] { GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.F16, GgmlType.BF16 })
        {
            long rowBytes = GgmlTypeInfo.ByteCount(type, columns);
            var random = new Random(1);
            byte* weight = BenchWeights.Quantized(type, rows, columns, random);
            var matrix = new WeightMatrix(weight, type, rows, columns);
            var line = $"{GgmlTypeInfo.Name(type),-5}";
            foreach (int tokens in new[] { 1, 16 })
                foreach (KernelIsa isa in Enum.GetValues<KernelIsa>())
                {
                    if (isa == KernelIsa.Scalar || !KernelIsaInfo.IsSupported(isa)) continue;
                    var input = new float[tokens * columns];
                    for (int i = 0; i < input.Length; i++) input[i] = random.NextSingle() - 0.5f;
                    var output = new float[tokens * rows];
                    double best = ThreadClock.BestPerCall(() => MatMul.Multiply(input, tokens, matrix, output, pool, isa), rounds: 4, wallMilliseconds: 150);
                    line += $"  {tokens,2} tokens {isa} {best / tokens:F3} cpu-ms/token";
                }
            Console.WriteLine(line);
            NativeMemory.AlignedFree(weight);
        }
    }
    /// <summary>
    /// Thread CPU per call of a 4096×4096 Q4_0/Q8_0 product of 1..16 tokens at the level MatMul picks (one-token
    /// kernel, few-token kernels for 2..15, tiles from 16), and the 256-bit VNNI tiles at 16 tokens, per token.
    /// </summary>
    public static void RunFewTokens()
    {
        const int rows = 4096, columns = 4096;
        using var pool = new ComputePool(1);
        foreach (var type in new[] { GgmlType.Q4_0, GgmlType.Q8_0 })
        {
            long rowBytes = GgmlTypeInfo.ByteCount(type, columns);
            var random = new Random(1);
            byte* weight = BenchWeights.Quantized(type, rows, columns, random);
            var matrix = new WeightMatrix(weight, type, rows, columns);
            double one = 0;
            foreach (var (tokens, forced) in new (int, KernelIsa?)[] { (1, null), (2, null), (3, null), (5, null), (8, null), (12, null), (15, null), (16, null), (16, KernelIsa.AvxVnni) })
            {
                KernelIsa isa = forced ?? KernelIsaInfo.BestFor(type, tokens);
                if (!KernelIsaInfo.IsSupported(isa)) continue;
                var input = new float[tokens * columns];
                for (int i = 0; i < input.Length; i++) input[i] = random.NextSingle() - 0.5f;
                var output = new float[tokens * rows];
                double best = ThreadClock.BestPerCall(() => MatMul.Multiply(input, tokens, matrix, output, pool, isa), rounds: 4, wallMilliseconds: 150);
                if (tokens == 1) one = best;
                string loop = "";
                if (tokens is > 1 and < FewTokens.MaxTokens && forced == null)
                {
                    // The path before the few-token kernels: the one-row kernel per token while the row sits in L1.
                    var kernel = DotKernels.Q8(type, isa);
                    byte* activations = (byte*)NativeMemory.AlignedAlloc(Q8Activations.RowBytes(columns) * (nuint)tokens, 64);
                    fixed (float* x = input)
                        for (int t = 0; t < tokens; t++) Q8Activations.Quantize(x + t * columns, columns, Q8Activations.Row(activations, columns, t));
                    double looped = ThreadClock.BestPerCall(() =>
                    {
                        for (int r = 0; r < rows; r++)
                            for (int t = 0; t < tokens; t++) output[t * rows + r] = kernel(weight + r * rowBytes, Q8Activations.Row(activations, columns, t), columns / 32);
                    }, rounds: 4, wallMilliseconds: 150);
                    NativeMemory.AlignedFree(activations);
                    loop = $"  (one-row kernel per token: {looped:F3} cpu-ms/call, {looped / one:F2}x)";
                }
                Console.WriteLine($"{GgmlTypeInfo.Name(type),-5} {tokens,2} tokens {isa,-7} {best:F3} cpu-ms/call  {best / tokens:F3} cpu-ms/token  {best / one:F2}x one token{loop}");
            }
            NativeMemory.AlignedFree(weight);
        }
    }
}
