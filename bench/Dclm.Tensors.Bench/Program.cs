using System.Diagnostics;
using System.Runtime.InteropServices;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Quantization;
using Dclm.Tensors.Bench;

// Decode-shaped (one token) and prefill-shaped (many tokens) products: time per call, weight bytes
// streamed per second, and the ratio to llama.cpp's own kernels on one thread in this process.
if (args.Length > 0 && args[0] == "kernels") { KernelBench.Run(args.Length > 1 ? int.Parse(args[1]) : 4096); return; }
if (args.Length > 0 && args[0] == "prefill") { KernelBench.RunPrefill(); return; }
if (args.Length > 0 && args[0] == "few") { KernelBench.RunFewTokens(); return; }
if (args.Length > 0 && args[0] == "tile") { TileBench.Run(); return; }
if (args.Length > 0 && args[0] == "repack") { RepackBench.Run(); return; }
if (args.Length > 0 && args[0] == "pool") { PoolBench.Run(); return; }
if (args.Length > 0 && args[0] == "attention") { AttentionBench.Run(args); return; }
if (args.Length > 0 && args[0] == "peer") { KernelBench.RunPeer(); return; }
if (args.Length > 0 && args[0] == "decode") { DecodeBench.Run(args); return; }
if (args.Length > 0 && args[0] == "rows") { RowKernelBench.Run(args); return; }
if (args.Length > 1 && args[0] == "sweep") { SweepBench.Run(args[1]); return; }
unsafe
{
    bool peer = LlamaCppPeer.TryLoad(out string peerInfo);
    Console.WriteLine($"llama.cpp peer: {(peer ? peerInfo : "unavailable: " + peerInfo)}");
    Console.WriteLine($"{"type",-5} {"shape",-12} {"tok",3} {"thr",3} {"ms/call",9} {"GB/s",7} {"vs llama.cpp 1t",16}");
    var shapes = args.Length > 0 && args[0] == "quick" ? new[] { (4096, 4096) } : new[] { (4096, 4096), (11008, 4096) };
    foreach (var type in new[] { GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.F16 })
    foreach (var (rows, columns) in shapes)
    {
        long rowBytes = GgmlTypeInfo.ByteCount(type, columns);
        long bytes = rowBytes * rows;
        byte* weight = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        var random = new Random(1);
        var rowValues = new float[columns];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++) rowValues[c] = (random.NextSingle() - 0.5f) * 0.1f;
            Quantizer.QuantizeRow(type, rowValues, new Span<byte>(weight + r * rowBytes, (int)rowBytes));
        }
        var matrix = new WeightMatrix(weight, type, rows, columns);
        foreach (int tokens in new[] { 1, 16 })
        {
            var input = new float[tokens * columns];
            for (int i = 0; i < input.Length; i++) input[i] = random.NextSingle() - 0.5f;
            var output = new float[tokens * rows];
            double peerMs = double.NaN;
            if (peer && tokens == 1)
            {
                byte* scratch = (byte*)NativeMemory.AlignedAlloc((nuint)columns * 2 + 4096, 64);
                fixed (float* px = input)
                fixed (float* py = output)
                {
                    float* x = px, y = py;
                    peerMs = Time(() => LlamaCppPeer.MatVec((int)type, weight, rowBytes, rows, columns, x, y, scratch));
                }
                NativeMemory.AlignedFree(scratch);
            }
            foreach (int threads in new[] { 1, 2 })
            {
                using var pool = new ComputePool(threads);
                double ms = Time(() => MatMul.Multiply(input, tokens, matrix, output, pool));
                string ratio = threads == 1 && !double.IsNaN(peerMs) ? $"{peerMs / ms:F2}x ({peerMs:F3} ms)" : "";
                Console.WriteLine($"{GgmlTypeInfo.Name(type),-5} {rows + "x" + columns,-12} {tokens,3} {threads,3} {ms,9:F3} {bytes / ms / 1e6,7:F1} {ratio,16}");
            }
        }
        NativeMemory.AlignedFree(weight);
    }
}

static double Time(Action action)
{
    action();
    var best = double.MaxValue;
    for (int round = 0; round < 5; round++)
    {
        int calls = 0;
        var watch = Stopwatch.StartNew();
        while (watch.ElapsedMilliseconds < 150) { action(); calls++; }
        best = Math.Min(best, watch.Elapsed.TotalMilliseconds / calls);
    }
    return best;
}
