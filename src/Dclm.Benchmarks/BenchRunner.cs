using Dclm.Checkpoints;
using Dclm.Tensors;
using Dclm.Tensors.Compute;

namespace Dclm.Benchmarks;

/// <summary>
/// Runs the benchmark like llama-bench: synthetic prompt tokens, one warm-up, then repetitions of pp (a
/// whole prompt in one step) and tg (one token per step from an empty context) on the same file and threads.
/// With a peer both engines stay loaded and take turns, test by test (ours then the peer's in even repetitions,
/// the peer's then ours in odd ones), so a burst of load from other work falls on both. The memory bandwidth is probed
/// before the repetitions and after each one, with our threads, and the bound is the best probe (<see cref="BenchReport"/>).
/// </summary>
public static class BenchRunner
{
    /// <summary>The speculation test's prompt: the tokens of <see cref="BenchOptions.LookupPrompt"/>, else a synthetic repetitive one.</summary>
    private static int[] SpeculationPrompt(BenchOptions options, LoadedModel model)
    {
        if (options.LookupPrompt is not { } text) return SpeculationBench.RepetitivePrompt(options.PromptTokens, model.Config.VocabularySize);
        var tokenizer = model.Tokenizer ?? throw new ArgumentException("--lookup-prompt needs a model with a tokenizer");
        int[] prompt = tokenizer.Encode(text);
        if (prompt.Length + options.GeneratedTokens > model.Config.ContextLength)
            throw new ArgumentException($"--lookup-prompt has {prompt.Length} tokens; with --gen {options.GeneratedTokens} that exceeds the model's context of {model.Config.ContextLength}");
        return prompt;
    }

    public static BenchReport Run(BenchOptions options, IProgress<string> progress, CancellationToken cancellation)
    {
        options.Validate();
        string? loadBefore = HostCpu.LoadAverage();
        string path = ResolveModel(options, progress, cancellation);
        int context = Math.Max(options.PromptTokens, options.GeneratedTokens) + 16;

        // The peer's plugin is loaded first, so a missing one is reported before minutes of loading.
        var peerEngine = options.Compare is { } name ? BenchPeers.Load(name) : null;
        // Measured before loading, so our resident memory counts our weights as the peer's counts its own.
        double before = ResidentMegabytes();
        using var ours = new OurTarget(path, options.Threads, context, options.Loading, options.Device, cancellation);
        var residence = ours.Model.Residence;
        var kernels = Kernels(ours, options.PromptTokens);
        progress.Report(residence.Describe());
        long bytesPerToken = BytesPerToken(ours);
        int vocabulary = ours.Model.Config.VocabularySize;
        WarmUp(ours, options, vocabulary, progress);
        double oursResident = ResidentMegabytes();
        using var peer = peerEngine?.Open(path, options.Threads, context, useMemoryMap: options.Loading != WeightLoading.Copied);
        double peerResident = 0;
        if (peer is not null)
        {
            WarmUp(peer, options, vocabulary, progress);
            peerResident = ResidentMegabytes() - oursResident;
        }
        using var pool = new ComputePool(options.Threads);
        // On a device the bound is its memory's bandwidth (a copy kernel), not the host's.
        using var probe = ours.Device is null ? new MemoryBandwidth() : null;
        using var deviceProbe = ours.Device is { } device ? new Gpu.DeviceBandwidth(device) : null;

        IBenchTarget[] targets = peer is null ? [ours] : [ours, peer];
        var samples = targets.Select(_ => new Samples()).ToArray();
        var bandwidths = new List<double>();
        // One probe before the repetitions and one after each: the bound is the best of them (see BenchReport).
        double Probe() => deviceProbe?.Measure() ?? probe!.Measure(pool);
        bandwidths.Add(Probe());
        progress.Report($"memory bandwidth {bandwidths[^1] / 1e9:F1} GB/s");
        for (int rep = 0; rep < options.Repetitions; rep++)
        {
            cancellation.ThrowIfCancellationRequested();
            string label = $"repetition {rep + 1}/{options.Repetitions}";
            var order = rep % 2 == 0 ? targets.Index() : targets.Index().Reverse();
            foreach (var (i, target) in order)
                if (options.PromptTokens > 0) samples[i].AddPrompt(Prompt(target, options.PromptTokens, vocabulary, label, progress));
            foreach (var (i, target) in order)
                if (options.GeneratedTokens > 0) samples[i].AddGeneration(Generation(target, options.GeneratedTokens, vocabulary, label, progress));
            bandwidths.Add(Probe());
            progress.Report($"memory bandwidth {bandwidths[^1] / 1e9:F1} GB/s");
        }
        SpeculationResult? speculation = null, engineSpeculation = null;
        if (options.LookupNgram > 0)
        {
            int[] speculationPrompt = SpeculationPrompt(options, ours.Model);
            speculation = SpeculationBench.Run(ours.Model.Model, speculationPrompt, options.GeneratedTokens,
                options.LookupNgram, options.DraftMax, options.Repetitions, progress, cancellation);
            engineSpeculation = EngineSpeculationBench.Run(ours.Model.Model, speculationPrompt, options.GeneratedTokens,
                options.LookupNgram, options.DraftMax, options.Repetitions, progress, cancellation);
        }
        return new BenchReport(path, options.Threads, samples[0].Result(ours.Name, oursResident - before),
            peer is null ? null : samples[1].Result(peer.Name, peerResident), bandwidths.Max(), bytesPerToken, residence)
        {
            LoadAverage = (loadBefore, HostCpu.LoadAverage()),
            Device = ours.Device?.Description ?? "cpu",
            Kernels = kernels,
            Speculation = speculation,
            EngineSpeculation = engineSpeculation,
            BandwidthSamples = bandwidths,
            PairedRatios = peer is null ? null : (Samples.PairedRatio(samples[0].Prompt, samples[1].Prompt),
                Samples.PairedRatio(samples[0].Generation, samples[1].Generation)),
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

    /// <summary>
    /// The same prompt every time (seeded), so both engines and every repetition process the same tokens: ids in
    /// [300, 30000), or for a vocabulary smaller than 30000 in [min(300, V/2), V) (a fixture model has 512).
    /// </summary>
    internal static int[] PromptTokens(int count, int vocabulary)
    {
        int high = Math.Min(30000, vocabulary), low = Math.Min(300, high / 2);
        var random = new Random(1234);
        return Enumerable.Range(0, count).Select(_ => random.Next(low, high)).ToArray();
    }

    /// <summary>One pp and one tg, unmeasured: the first steps pay for page faults, JIT and caches.</summary>
    private static void WarmUp(IBenchTarget target, BenchOptions options, int vocabulary, IProgress<string> progress)
    {
        if (options.PromptTokens > 0) Prompt(target, options.PromptTokens, vocabulary, "warm-up", progress);
        if (options.GeneratedTokens > 0) Generation(target, options.GeneratedTokens, vocabulary, "warm-up", progress);
    }

    /// <summary>Processes the prompt once: (tokens/s, CPU ms per token).</summary>
    private static (double Rate, double CpuMilliseconds) Prompt(IBenchTarget target, int tokens, int vocabulary, string label, IProgress<string> progress)
    {
        int[] prompt = PromptTokens(tokens, vocabulary);
        progress.Report($"{target.Name}: pp{tokens} {label}");
        var clock = CpuClock.Start();
        target.ProcessPrompt(prompt);
        var (wall, cpu) = clock.Stop();
        progress.Report($"{target.Name}: pp{tokens} {tokens / wall:F2} tok/s, {cpu * 1e3 / tokens:F2} cpu-ms/token");
        return (tokens / wall, cpu * 1e3 / tokens);
    }

    /// <summary>Generates <paramref name="tokens"/> tokens once: (tokens/s, CPU ms per token).</summary>
    private static (double Rate, double CpuMilliseconds) Generation(IBenchTarget target, int tokens, int vocabulary, string label, IProgress<string> progress)
    {
        progress.Report($"{target.Name}: tg{tokens} {label}");
        var clock = CpuClock.Start();
        target.Generate(PromptTokens(1, vocabulary)[0], tokens);
        var (wall, cpu) = clock.Stop();
        progress.Report($"{target.Name}: tg{tokens} {tokens / wall:F2} tok/s, {cpu * 1e3 / tokens:F2} cpu-ms/token");
        return (tokens / wall, cpu * 1e3 / tokens);
    }

    /// <summary>One engine's per-repetition rates (tokens/s) and CPU costs (ms per token).</summary>
    private sealed class Samples
    {
        public List<double> Prompt { get; } = [];
        public List<double> Generation { get; } = [];
        private readonly List<double> _promptCpu = [];
        private readonly List<double> _generationCpu = [];

        public void AddPrompt((double Rate, double CpuMilliseconds) sample)
        {
            Prompt.Add(sample.Rate);
            _promptCpu.Add(sample.CpuMilliseconds);
        }

        public void AddGeneration((double Rate, double CpuMilliseconds) sample)
        {
            Generation.Add(sample.Rate);
            _generationCpu.Add(sample.CpuMilliseconds);
        }

        public EngineResult Result(string engine, double residentMegabytes) =>
            new(engine, Measurement.Of(Prompt), Measurement.Of(Generation), residentMegabytes)
            {
                PromptCpuMillisecondsPerToken = Measurement.MedianOf(_promptCpu),
                GenerationCpuMillisecondsPerToken = Measurement.MedianOf(_generationCpu),
            };

        /// <summary>The median over repetitions of ours / the peer's, each pair measured back to back; 0 when skipped.</summary>
        public static double PairedRatio(List<double> ours, List<double> peer) =>
            Measurement.MedianOf(ours.Zip(peer).Where(p => p.Second > 0).Select(p => p.First / p.Second));
    }

    /// <summary>This process's resident set in MB.</summary>
    private static double ResidentMegabytes()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64 / 1e6;
    }

    /// <summary>The kernel level of each weight type the model's matrices use, for one token and for a prompt: "avx512, prompt avxvnni".</summary>
    private static Dictionary<string, string> Kernels(OurTarget target, int promptTokens)
    {
        if (target.Device is not null) return new Dictionary<string, string> { ["all"] = "ilgpu" };
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
