using System.CommandLine;
using System.Text.Json;
using Dclm.Benchmarks;

namespace Dclm.Cli.Commands;

/// <summary>`dclm bench`: prompt-processing and generation speed, optionally next to llama.cpp in the same run.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "GGUF file, or synthetic:tinyllama|llama-7b|dclm-7b (random weights, written once)", DefaultValueFactory = _ => "synthetic:tinyllama" };
        var type = new Option<string>("--type") { Description = "tensor type of a synthetic model", DefaultValueFactory = _ => "q8_0" };
        var threads = ModelOptions.Threads();
        var prompt = new Option<int>("--prompt") { Description = "prompt tokens of the pp test (0 = skip)", DefaultValueFactory = _ => 512 };
        var gen = new Option<int>("--gen") { Description = "generated tokens of the tg test (0 = skip)", DefaultValueFactory = _ => 128 };
        var repetitions = new Option<int>("--repetitions") { Description = "measured repetitions after a warm-up", DefaultValueFactory = _ => 5 };
        var compare = new Option<string?>("--compare") { Description = "also measure this peer in the same run: llama.cpp" };
        var json = new Option<string?>("--json") { Description = "write the results as JSON to this file" };
        var workDirectory = new Option<string?>("--work-dir") { Description = "where synthetic models are kept" };
        var mmap = new Option<bool>("--mmap") { Description = "both engines map the weights from the file (default: we copy them when they fit, as a user's load does; llama.cpp maps)" };
        var noMmap = new Option<bool>("--no-mmap") { Description = "both engines copy the weights into their own memory" };
        var lookupNgram = new Option<int>("--lookup-ngram") { Description = "also measure prompt-lookup speculative decoding (n-grams up to N) on a repetitive prompt of --prompt tokens against plain decoding (0 = skip)" };
        var lookupPrompt = new Option<FileInfo?>("--lookup-prompt") { Description = "the speculation test's prompt is this text file (tokenized by the model) instead of a synthetic repetitive one" };
        var draftMax = new Option<int>("--draft-max") { Description = "most draft tokens per step in the speculation test", DefaultValueFactory = _ => 8 };
        var device = DeviceOptions.Device();
        var command = new Command("bench", "Measure prompt processing (pp) and token generation (tg) speed, like llama-bench")
        {
            model, type, threads, prompt, gen, repetitions, compare, json, workDirectory, mmap, noMmap, lookupNgram, lookupPrompt, draftMax, device,
        };
        command.SetAction((parse, cancellation) => CliErrors.RunAsync(() =>
        {
            var options = new BenchOptions
            {
                Model = parse.GetValue(model)!, Type = parse.GetValue(type)!, Threads = parse.GetValue(threads),
                PromptTokens = parse.GetValue(prompt), GeneratedTokens = parse.GetValue(gen), Repetitions = parse.GetValue(repetitions),
                Compare = parse.GetValue(compare), Loading = Checkpoints.WeightLoadingOptions.FromFlags(parse.GetValue(mmap), parse.GetValue(noMmap)),
                WorkDirectory = parse.GetValue(workDirectory) ?? Path.Combine(Path.GetTempPath(), "dclm-bench"),
                LookupNgram = parse.GetValue(lookupNgram), DraftMax = parse.GetValue(draftMax),
                LookupPrompt = parse.GetValue(lookupPrompt) is { } promptFile ? File.ReadAllText(promptFile.FullName) : null,
                Device = parse.GetValue(device)!,
            };
            var progress = new Progress<string>(message => Console.Error.WriteLine($"[bench] {message}"));
            var report = BenchRunner.Run(options, progress, cancellation);
            Print(report, options);
            if (parse.GetValue(json) is { } file)
                File.WriteAllText(file, report.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return Task.FromResult(0);
        }));
        return command;
    }

    private static void Print(BenchReport r, BenchOptions o)
    {
        Console.WriteLine($"model: {r.ModelPath}   threads: {r.Threads}   device: {r.Device}");
        Console.WriteLine($"host: {r.Host}; load average {r.LoadAverage.Before ?? "n/a"} at the start, {r.LoadAverage.After ?? "n/a"} at the end");
        Console.WriteLine($"kernels: {string.Join(", ", r.Kernels.Select(k => $"{k.Key} {k.Value}"))}");
        Console.WriteLine($"ours: {r.Residence.Describe()}");
        Console.WriteLine($"| engine | pp{o.PromptTokens} tok/s | tg{o.GeneratedTokens} tok/s | pp CPU ms/token | tg CPU ms/token | own RSS MB |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var e in new[] { r.Ours, r.Peer }.OfType<EngineResult>())
            Console.WriteLine($"| {e.Engine} | {e.PromptTokensPerSecond} | {e.GenerationTokensPerSecond} | {e.PromptCpuMillisecondsPerToken:F2} | {e.GenerationCpuMillisecondsPerToken:F2} | {e.ResidentMegabytes:F0} |");
        Console.WriteLine($"tok/s: median [min-max] of {o.Repetitions} repetitions{(r.Peer is null ? "" : ", the engines taking turns test by test")}; CPU ms: median");
        if (r.Peer is { } p && r.PairedRatios is { } ratios)
            Console.WriteLine($"ratio ours/{p.Engine}: pp {Ratio(r.Ours.PromptTokensPerSecond, p.PromptTokensPerSecond, ratios.Prompt)}, tg {Ratio(r.Ours.GenerationTokensPerSecond, p.GenerationTokensPerSecond, ratios.Generation)} (median of back-to-back pairs)");
        string probes = string.Join(" ", r.BandwidthSamples.Select(b => (b / 1e9).ToString("F1")));
        Console.WriteLine($"{(r.Device == "cpu" ? "memory" : "device memory (copy kernel)")} bandwidth {r.BandwidthBytesPerSecond / 1e9:F1} GB/s (best of probes {probes}; median {r.BandwidthMedianBytesPerSecond / 1e9:F1}); " +
            $"{r.BytesPerToken / 1e6:F0} MB of weights per token ⇒ tg bound {r.BandwidthBoundTokensPerSecond:F2} tok/s; " +
            $"ours reaches {100 * r.GenerationFractionOfBound:F0}% (median tg against the best probe; fastest repetition {100 * r.BestGenerationFractionOfBound:F0}%)");
        if (r.Speculation is { } s) PrintSpeculation("speculation", s, o);
        if (r.EngineSpeculation is { } engine) PrintSpeculation("serving engine speculation", engine, o);
    }

    private static void PrintSpeculation(string label, SpeculationResult s, BenchOptions o)
    {
        Console.WriteLine($"{label} (prompt lookup n={s.NgramSize}, draft-max {s.MaxDraftTokens}, {(o.LookupPrompt is null ? "repetitive" : "--lookup-prompt")} prompt of {s.PromptTokens} tokens, tg{o.GeneratedTokens} greedy): " +
            $"plain {s.Plain} tok/s, lookup {s.Speculative} tok/s, speed-up {s.PairedRatio:F2}x (median of back-to-back pairs); " +
            $"CPU per token plain {s.PlainCpuMillisecondsPerToken:F1} ms, lookup {s.SpeculativeCpuMillisecondsPerToken:F1} ms " +
            $"({(s.SpeculativeCpuMillisecondsPerToken > 0 ? s.PlainCpuMillisecondsPerToken / s.SpeculativeCpuMillisecondsPerToken : 0):F2}x); " +
            $"last run {s.Statistics}; output {(s.Identical ? "identical to plain decoding" : "DIFFERENT from plain decoding")}");
    }

    /// <summary>"-" for a test that was skipped (0 repetitions).</summary>
    private static string Ratio(Measurement ours, Measurement peer, double paired) =>
        ours.Repetitions > 0 && peer.Repetitions > 0 && paired > 0 ? paired.ToString("F2") : "-";
}
