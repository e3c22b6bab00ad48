using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using Dclm.Models;
using Dclm.Tensors.Compute;
using Dclm.Training;

// Training throughput of a ~10M-parameter open_lm model at 1 and 2 threads, next to this machine's
// peak: the FMA throughput of registers alone (the ceiling) and the best large square product of our
// training GEMM. Usage: dotnet run -c Release [--steps N] [--threads 1,2]
var culture = CultureInfo.InvariantCulture;
int steps = ArgValue("--steps", 3);
int[] threadCounts = (ArgString("--threads") ?? "1,2").Split(',').Select(int.Parse).ToArray();

// ~10M parameters: dim 384, 4 layers, vocab 8192, tied head off; T = 256, batch 4.
var config = ModelConfig.OpenLm(384, 4, 6, 8192, 256);
const int batch = 4, sequence = 256;
var layout = new ModelParameters(config);
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
    var model = TrainingModel.Full(layout, pool);
    ParameterInitializer.Initialize(layout, 1);
    model.ParametersChanged();
    var random = new Random(1);
    var inputs = Enumerable.Range(0, batch * sequence).Select(_ => random.Next(config.VocabularySize)).ToArray();
    var targets = Enumerable.Range(0, batch * sequence).Select(_ => random.Next(config.VocabularySize)).ToArray();
    model.ForwardBackward(inputs, targets, batch, sequence, 1e-4f); // warm-up (JIT, buffers)
    // Best of the timed steps: on a shared machine the fastest run is the one least disturbed.
    double seconds = double.MaxValue;
    for (int s = 0; s < steps; s++)
    {
        var clock = Stopwatch.StartNew();
        model.ForwardBackward(inputs, targets, batch, sequence, 1e-4f);
        seconds = Math.Min(seconds, clock.Elapsed.TotalSeconds);
    }
    double tokensPerSecond = batch * sequence / seconds;
    double achieved = tokensPerSecond * flopsPerToken / 1e9;
    // The matmul-only rate: the same products through Gemm alone, timed apart from the other ops.
    double matmulRate = MatmulShare(pool, config, batch * sequence);
    Console.WriteLine(string.Create(culture, $"{threads,7}  {peak,16:F1}  {gemm,12:F1}  {tokensPerSecond,11:F0}  {achieved,13:F1}  {achieved / peak,10:P0}  {matmulRate,12:F1} ({matmulRate / peak:P0} of peak)"));
}

static double PeakFma(int threads)
{
    // Independent FMA chains in registers on every thread at once: the ceiling no kernel can pass. Best of 3.
    const long Iterations = 20_000_000;
    int width = Vector512.IsHardwareAccelerated ? 16 : 8;
    double best = 0;
    for (int attempt = 0; attempt < 3; attempt++)
    {
        var sums = new float[threads];
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() => sums[t] = FmaChains(Iterations))).ToArray();
        var clock = Stopwatch.StartNew();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        double seconds = clock.Elapsed.TotalSeconds;
        if (sums.Any(v => v == 0)) throw new InvalidOperationException("the FMA loop was optimised away");
        best = Math.Max(best, threads * Iterations * 8.0 * width * 2 / seconds / 1e9);
    }
    return best;
}

static float FmaChains(long iterations)
{
    if (Vector512.IsHardwareAccelerated)
    {
        var a = Vector512.Create(0.999999f); var b = Vector512.Create(1e-7f);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, a, b); c1 = Vector512.FusedMultiplyAdd(c1, a, b); c2 = Vector512.FusedMultiplyAdd(c2, a, b); c3 = Vector512.FusedMultiplyAdd(c3, a, b);
            c4 = Vector512.FusedMultiplyAdd(c4, a, b); c5 = Vector512.FusedMultiplyAdd(c5, a, b); c6 = Vector512.FusedMultiplyAdd(c6, a, b); c7 = Vector512.FusedMultiplyAdd(c7, a, b);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7);
    }
    else
    {
        var a = Vector256.Create(0.999999f); var b = Vector256.Create(1e-7f);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, a, b); c1 = Vector256.FusedMultiplyAdd(c1, a, b); c2 = Vector256.FusedMultiplyAdd(c2, a, b); c3 = Vector256.FusedMultiplyAdd(c3, a, b);
            c4 = Vector256.FusedMultiplyAdd(c4, a, b); c5 = Vector256.FusedMultiplyAdd(c5, a, b); c6 = Vector256.FusedMultiplyAdd(c6, a, b); c7 = Vector256.FusedMultiplyAdd(c7, a, b);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7);
    }
}

static double GemmRate(ComputePool pool, int m, int k, int n)
{
    var a = new float[m * k]; var b = new float[k * n]; var c = new float[m * n];
    for (int i = 0; i < a.Length; i++) a[i] = 0.001f * (i % 97);
    for (int i = 0; i < b.Length; i++) b[i] = 0.001f * (i % 89);
    Gemm.Multiply(a, k, 1, b, c, m, k, n, false, pool);
    double best = double.MaxValue;
    for (int r = 0; r < 5; r++)
    {
        var clock = Stopwatch.StartNew();
        Gemm.Multiply(a, k, 1, b, c, m, k, n, false, pool);
        best = Math.Min(best, clock.Elapsed.TotalSeconds);
    }
    return 2.0 * m * k * n / best / 1e9;
}

static double MatmulShare(ComputePool pool, ModelConfig c, int tokens)
{
    // The three products of each linear layer at training shapes (forward, input grad, weight grad).
    int d = c.Dim, h = c.HiddenDim;
    (int In, int Out)[] layers = [(d, 3 * d), (d, d), (d, 2 * h), (h, d)];
    double flops = 0, seconds = 0;
    foreach (var (inWidth, outWidth) in layers)
    {
        var x = new float[tokens * inWidth]; var w = new float[outWidth * inWidth]; var y = new float[tokens * outWidth];
        double best = double.MaxValue;
        for (int r = 0; r < 3; r++)
        {
            var clock = Stopwatch.StartNew();
            Gemm.Multiply(x, inWidth, 1, w, y, tokens, inWidth, outWidth, false, pool);
            Gemm.Multiply(y, outWidth, 1, w, x, tokens, outWidth, inWidth, false, pool);
            Gemm.Multiply(y, 1, outWidth, x, w, outWidth, tokens, inWidth, true, pool);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        seconds += best;
        flops += 3 * 2.0 * tokens * inWidth * outWidth;
    }
    return flops / seconds / 1e9;
}

int ArgValue(string name, int fallback) => ArgString(name) is string s ? int.Parse(s, culture) : fallback;
string? ArgString(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
