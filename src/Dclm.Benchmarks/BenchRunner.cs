using System.Diagnostics;
using Dclm.Checkpoints;
using Dclm.Tensors;
using Dclm.Tensors.Compute;

namespace Dclm.Benchmarks;

/// <summary>
/// Runs the benchmark like llama-bench: synthetic prompt tokens, one warm-up, then repetitions of pp (a
/// whole prompt in one step) and tg (one token per step from an empty context), for us and the peer,
/// one engine at a time on the same file and threads.
/// </summary>
public static class BenchRunner
{
    public static BenchReport Run(BenchOptions options, IProgress<string> progress, CancellationToken cancellation)
    {
        options.Validate();
        string? loadBefore = HostCpu.LoadAverage();
        string path = ResolveModel(options, progress, cancellation);
        int context = Math.Max(options.PromptTokens, options.GeneratedTokens) + 16;

        // The peer's plugin is loaded first, so a missing one is reported before minutes of our own measurement.
        var peerEngine = options.Compare is { } name ? BenchPeers.Load(name) : null;
        EngineResult ours;
        long bytesPerToken;
        WeightResidence residence;
        Dictionary<string, string> kernels;
        using (var target = new OurTarget(path, options.Threads, context, options.Loading))
        {
            residence = target.Model.Residence;
            kernels = Kernels(target, options.PromptTokens);
            progress.Report(residence.Describe());
            bytesPerToken = BytesPerToken(target);
            ours = Measure(target, options, progress, cancellation);
        }
        EngineResult? peer = null;
        if (peerEngine is not null)
        {
            using var target = peerEngine.Open(path, options.Threads, context, useMemoryMap: options.Loading != WeightLoading.Copied);
            peer = Measure(target, options, progress, cancellation);
        }
        progress.Report("measuring memory bandwidth");
        using var pool = new ComputePool(options.Threads);
        double bandwidth = MemoryBandwidth.Measure(pool);
        return new BenchReport(path, options.Threads, ours, peer, bandwidth, bytesPerToken, residence)
        {
            LoadAverage = (loadBefore, HostCpu.LoadAverage()),
            Kernels = kernels,
        };
    }

    private static string ResolveModel(BenchOptions options, IProgress<string> progress, CancellationToken cancellation)
    {
        const string prefix = "synthetic:";
        if (!options.Model.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return options.Model;
        var shape = BenchShape.Parse(options.Model[prefix.Length..]);
        if (!GgmlTypeInfo.TryParse(options.Type, out var type)) throw new ArgumentException($"--type '{options.Type}' is not a tensor type");
        return SyntheticGguf.Ensure(options.WorkDirectory, shape, type, progress, cancellation);
    }

    private static EngineResult Measure(IBenchTarget target, BenchOptions options, IProgress<string> progress, CancellationToken cancellation)
    {
        var random = new Random(1234);
        int[] prompt = Enumerable.Range(0, options.PromptTokens).Select(_ => random.Next(300, 30000)).ToArray();
        var pp = new List<double>();
        var tg = new List<double>();
        var ppCpu = new List<double>();
        var tgCpu = new List<double>();
        for (int rep = -1; rep < options.Repetitions; rep++)
        {
            cancellation.ThrowIfCancellationRequested();
            string label = rep < 0 ? "warm-up" : $"repetition {rep + 1}/{options.Repetitions}";
            if (options.PromptTokens > 0)
            {
                progress.Report($"{target.Name}: pp{options.PromptTokens} {label}");
                var clock = CpuClock.Start();
                target.ProcessPrompt(prompt);
                var (wall, cpu) = clock.Stop();
                progress.Report($"{target.Name}: pp{options.PromptTokens} {options.PromptTokens / wall:F2} tok/s, {cpu * 1e3 / options.PromptTokens:F2} cpu-ms/token");
                if (rep >= 0) { pp.Add(options.PromptTokens / wall); ppCpu.Add(cpu * 1e3 / options.PromptTokens); }
            }
            if (options.GeneratedTokens > 0)
            {
                progress.Report($"{target.Name}: tg{options.GeneratedTokens} {label}");
                var clock = CpuClock.Start();
                target.Generate(prompt.Length > 0 ? prompt[0] : 1000, options.GeneratedTokens);
                var (wall, cpu) = clock.Stop();
                progress.Report($"{target.Name}: tg{options.GeneratedTokens} {options.GeneratedTokens / wall:F2} tok/s, {cpu * 1e3 / options.GeneratedTokens:F2} cpu-ms/token");
                if (rep >= 0) { tg.Add(options.GeneratedTokens / wall); tgCpu.Add(cpu * 1e3 / options.GeneratedTokens); }
            }
        }
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return new EngineResult(target.Name,
            pp.Count > 0 ? Measurement.Of(pp) : new Measurement(0, 0, 0),
            tg.Count > 0 ? Measurement.Of(tg) : new Measurement(0, 0, 0),
            process.WorkingSet64 / 1e6)
        {
            PromptCpuMillisecondsPerToken = ppCpu.Count > 0 ? ppCpu.Average() : 0,
            GenerationCpuMillisecondsPerToken = tgCpu.Count > 0 ? tgCpu.Average() : 0,
        };
    }

    /// <summary>The kernel level of each weight type the model's matrices use, for one token and for a prompt: "avx512, prompt avxvnni".</summary>
    private static Dictionary<string, string> Kernels(OurTarget target, int promptTokens)
    {
        var w = target.Model.Model.Weights;
        var types = w.Layers.SelectMany(l => new[] { l.Query, l.Key, l.Value, l.Output, l.Gate, l.Up, l.Down }).Append(w.Output).Select(m => m.Type).Distinct();
        return types.Order().ToDictionary(GgmlTypeInfo.Name, type =>
        {
            string decode = MatMul.KernelLevel(type), prompt = MatMul.KernelLevel(type, Math.Max(1, promptTokens));
            return decode == prompt ? decode : $"{decode}, prompt {prompt}";
        });
    }

    /// <summary>Weight bytes a decode step reads: every matrix except the embedding, of which one row is read.</summary>
    private static long BytesPerToken(OurTarget target)
    {
        var w = target.Model.Model.Weights;
        long bytes = w.TokenEmbedding.RowBytes + w.Output.ByteLength;
        foreach (var l in w.Layers)
            foreach (var m in new[] { l.Query, l.Key, l.Value, l.Output, l.Gate, l.Up, l.Down }) bytes += m.ByteLength;
        return bytes;
    }
}
