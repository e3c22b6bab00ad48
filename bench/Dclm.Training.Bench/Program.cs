using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using Dclm.Models;
using Dclm.Tensors.Compute;
using Dclm.Training;
using Dclm.Training.Kernels;

// Training throughput of a ~10M-parameter open_lm model at 1 and 2 threads, next to this machine's
// peak: the FMA throughput of registers alone (the ceiling) and the best large square product of our
// training GEMM. Usage: dotnet run -c Release [--steps N] [--threads 1,2]
int steps = ArgValue("--steps", 3);
int[] threadCounts = (ArgString("--threads") ?? "1,2").Split(',').Select(int.Parse).ToArray();
var culture = CultureInfo.InvariantCulture;

// ~10M parameters: dim 384, 4 layers, vocab 8192, tied head off; T = 256, batch 4.
var config = ModelConfig.OpenLm(384, 4, 6, 8192, 256);
const int batch = 4, sequence = 256;
var layout = new ParameterLayout(config);
long matrixParameters = layout.Tensors.Where(t => !t.IsNorm && t != layout.Embedding).Sum(t => (long)t.Length);
// 6 FLOPs per matrix parameter per token (forward 2, backward 4) plus attention's 12·L·T·d/2 per token (causal half).
double flopsPerToken = 6.0 * matrixParameters + 12.0 * config.Layers * sequence * config.Dim / 2;
Console.WriteLine($"model: dim {config.Dim}, layers {config.Layers}, heads {config.Heads}, vocab {config.VocabularySize}, {layout.Count:N0} parameters, {flopsPerToken / 1e6:F1} MFLOP/token");
Console.WriteLine($"vectors: {(Vector512.IsHardwareAccelerated ? "AVX-512" : Vector256.IsHardwareAccelerated ? "AVX2" : "scalar")}");
Console.WriteLine();
Console.WriteLine("threads  peak-FMA GFLOP/s  GEMM GFLOP/s  train tok/s  train GFLOP/s  train/peak  matmul-share GFLOP/s");
foreach (int threads in threadCounts)
{
    using var pool = new ComputePool(threads);
    double peak = PeakFma(threads);
    double gemm = GemmRate(pool, 768, 768, 768);
    var model = new TrainingModel(layout, pool);
    ParameterInitializer.Initialize(layout, model.Parameters, 1);
    model.ParametersChanged();
    var random = new Random(1);
    var inputs = Enumerable.Range(0, batch * sequence).Select(_ => random.Next(config.VocabularySize)).ToArray();
    var targets = Enumerable.Range(0, batch * sequence).Select(_ => random.Next(config.VocabularySize)).ToArray();
    model.ForwardBackward(inputs, targets, batch, sequence, 1e-4f); // warm-up (JIT, buffers)
    var clock = Stopwatch.StartNew();
    for (int s = 0; s < steps; s++) model.ForwardBackward(inputs, targets, batch, sequence, 1e-4f);
    double seconds = clock.Elapsed.TotalSeconds;
    double tokensPerSecond = steps * batch * sequence / seconds;
    double achieved = tokensPerSecond * flopsPerToken / 1e9;
    // The matmul-only rate: the same products through Gemm alone, timed apart from the other ops.
    double matmulRate = MatmulShare(pool, config, batch * sequence);
    Console.WriteLine(string.Create(culture, $"{threads,7}  {peak,16:F1}  {gemm,12:F1}  {tokensPerSecond,11:F0}  {achieved,13:F1}  {achieved / peak,10:P0}  {matmulRate,12:F1} ({matmulRate / peak:P0} of peak)"));
}

static double PeakFma(int threads)
{
    // Independent FMA chains in registers: the ceiling no kernel can pass.
    const long Iterations = 20_000_000;
    double total = 0;
    var clock = Stopwatch.StartNew();
    Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ =>
    {
        if (Vector512.IsHardwareAccelerated)
        {
            var a = Vector512.Create(1.0001f); var b = Vector512.Create(0.9999f);
            Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
            for (long i = 0; i < Iterations; i++)
            {
                c0 = Vector512.FusedMultiplyAdd(a, b, c0); c1 = Vector512.FusedMultiplyAdd(a, b, c1); c2 = Vector512.FusedMultiplyAdd(a, b, c2); c3 = Vector512.FusedMultiplyAdd(a, b, c3);
                c4 = Vector512.FusedMultiplyAdd(a, b, c4); c5 = Vector512.FusedMultiplyAdd(a, b, c5); c6 = Vector512.FusedMultiplyAdd(a, b, c6); c7 = Vector512.FusedMultiplyAdd(a, b, c7);
            }
            GC.KeepAlive(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7);
        }
        else
        {
            var a = Vector256.Create(1.0001f); var b = Vector256.Create(0.9999f);
            Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
            for (long i = 0; i < Iterations; i++)
            {
                c0 = Vector256.FusedMultiplyAdd(a, b, c0); c1 = Vector256.FusedMultiplyAdd(a, b, c1); c2 = Vector256.FusedMultiplyAdd(a, b, c2); c3 = Vector256.FusedMultiplyAdd(a, b, c3);
                c4 = Vector256.FusedMultiplyAdd(a, b, c4); c5 = Vector256.FusedMultiplyAdd(a, b, c5); c6 = Vector256.FusedMultiplyAdd(a, b, c6); c7 = Vector256.FusedMultiplyAdd(a, b, c7);
            }
            GC.KeepAlive(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7);
        }
    });
    int width = Vector512.IsHardwareAccelerated ? 16 : 8;
    total = threads * Iterations * 8.0 * width * 2;
    return total / clock.Elapsed.TotalSeconds / 1e9;
}

static double GemmRate(ComputePool pool, int m, int k, int n)
{
    var a = new float[m * k]; var b = new float[k * n]; var c = new float[m * n];
    for (int i = 0; i < a.Length; i++) a[i] = 0.001f * (i % 97);
    for (int i = 0; i < b.Length; i++) b[i] = 0.001f * (i % 89);
    Gemm.Multiply(a, k, 1, b, c, m, k, n, false, pool);
    int repeats = 5;
    var clock = Stopwatch.StartNew();
    for (int r = 0; r < repeats; r++) Gemm.Multiply(a, k, 1, b, c, m, k, n, false, pool);
    return repeats * 2.0 * m * k * n / clock.Elapsed.TotalSeconds / 1e9;
}

static double MatmulShare(ComputePool pool, ModelConfig c, int tokens)
{
    // The three products of each linear layer at training shapes (forward, input grad, weight grad).
    int d = c.Dim, h = c.HiddenDim;
    (int In, int Out)[] layers = [(d, 3 * d), (d, d), (d, 2 * h), (h, d)];
    double flops = 0;
    var clock = new Stopwatch();
    foreach (var (inWidth, outWidth) in layers)
    {
        var x = new float[tokens * inWidth]; var w = new float[outWidth * inWidth]; var y = new float[tokens * outWidth];
        clock.Start();
        Gemm.Multiply(x, inWidth, 1, w, y, tokens, inWidth, outWidth, false, pool);
        Gemm.Multiply(y, outWidth, 1, w, x, tokens, outWidth, inWidth, false, pool);
        Gemm.Multiply(y, 1, outWidth, x, w, outWidth, tokens, inWidth, true, pool);
        clock.Stop();
        flops += 3 * 2.0 * tokens * inWidth * outWidth;
    }
    return flops / clock.Elapsed.TotalSeconds / 1e9;
}

int ArgValue(string name, int fallback) => ArgString(name) is string s ? int.Parse(s, culture) : fallback;
string? ArgString(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
