using System.Diagnostics;
using System.Globalization;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Quantization;
using Dclm.Training.FineTuning;
using Dclm.Training.Graph;

/// <summary>
/// The products of LoRA/QLoRA training through a frozen base at DCLM-7B's shapes: forward y = x·Wᵀ and input
/// gradient dx = dy·W over each stored type (WeightGemm), and a rank-16 adapter's forward and backward, in
/// GFLOP/s and as a share of this machine's FMA peak. Usage: --products [--tokens 512] [--threads 2] [--types bf16,q8_0,q4_0,q4_k | none]
/// </summary>
internal static class FrozenProducts
{
    public static void Run(string[] args, CultureInfo culture)
    {
        string? Arg(string name) => Array.IndexOf(args, name) is int i && i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        int tokens = int.Parse(Arg("--tokens") ?? "512", culture);
        int threads = int.Parse(Arg("--threads") ?? "2", culture);
        // --types none: the adapter's products alone.
        var types = (Arg("--types") ?? "bf16,q8_0,q4_0,q4_k").Split(',', StringSplitOptions.RemoveEmptyEntries).Where(t => t != "none").Select(t => GgmlTypeInfo.TryParse(t, out var type) ? type : throw new ArgumentException($"unknown type {t}")).ToArray();
        using var pool = new ComputePool(threads);
        double peak = FmaPeak.Measure(threads);
        Console.WriteLine(string.Create(culture, $"{threads} threads, {tokens} tokens; peak FMA {peak:F1} GFLOP/s"));
        Console.WriteLine("type   shape (out x in)   forward GFLOP/s (share)   backward dx GFLOP/s (share)");
        (int Out, int In)[] shapes = [(4096, 4096), (11008, 4096), (4096, 11008)];
        foreach (var type in types)
            foreach (var (rows, columns) in shapes)
            {
                var stored = Stored(type, rows, columns);
                var x = Fill(tokens * columns, 1);
                var y = new float[tokens * rows];
                unsafe
                {
                    fixed (byte* p = stored)
                    {
                        var weight = new WeightMatrix(p, type, rows, columns);
                        double flops = 2.0 * tokens * rows * columns;
                        double forward = flops / Best(() => WeightGemm.Forward(x, tokens, weight, y, false, pool)) / 1e9;
                        double backward = flops / Best(() => WeightGemm.Backward(y, tokens, weight, x, false, pool)) / 1e9;
                        Console.WriteLine(string.Create(culture, $"{GgmlTypeInfo.Name(type),-6} {rows,5} x {columns,-5}       {forward,8:F1} ({forward / peak,4:P0})          {backward,8:F1} ({backward / peak,4:P0})"));
                    }
                }
            }
        // A rank-16 adapter on a 4096 x 4096 projection: its own forward and backward, next to the base's.
        var adapter = new LoraAdapter("bench", 4096, 0, 4096, 16, 32, 0);
        adapter.Initialize(new Dclm.Training.DeterministicRandom(1));
        Fill(adapter.B.Length, 2).CopyTo(adapter.B.Values, 0);
        var pass = new PassContext(pool);
        var input = Fill(tokens * 4096, 3);
        var output = new float[tokens * 4096];
        double adapterFlops = 2.0 * tokens * 16 * 4096 * 2;
        double adapterForward = adapterFlops / Best(() => adapter.Forward(input, tokens, output, 4096, 0, pass.Scratch, pool)) / 1e9;
        double adapterBackward = 2 * adapterFlops / Best(() => adapter.Backward(output, 4096, input, tokens, input, 0, pass.Scratch, pool)) / 1e9;
        Console.WriteLine(string.Create(culture, $"rank-16 adapter on 4096 x 4096: forward {adapterForward:F1} GFLOP/s ({adapterForward / peak:P0}), backward (dA, dB, dx) {adapterBackward:F1} GFLOP/s ({adapterBackward / peak:P0})"));
    }

    private static byte[] Stored(GgmlType type, int rows, int columns)
    {
        var values = Fill(rows * columns, rows + columns);
        var stored = new byte[GgmlTypeInfo.ByteCount(type, columns) * rows];
        using var pool = new ComputePool(Environment.ProcessorCount);
        Quantizer.Quantize(type, values, rows, columns, stored, pool);
        return stored;
    }

    private static float[] Fill(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() - 0.5) * 0.1f;
        return values;
    }

    /// <summary>Seconds of the fastest of five runs after one warm-up: on a shared machine the least disturbed.</summary>
    private static double Best(Action run)
    {
        run();
        double best = double.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            run();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }
}
