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
if (args.Contains("--products"))
{
    FrozenProducts.Run(args, culture);
    return;
}
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
    double peak = FmaPeak.Measure(threads);
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
