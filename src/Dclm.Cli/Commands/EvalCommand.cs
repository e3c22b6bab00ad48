using System.CommandLine;
using System.Diagnostics;
using Dclm.Checkpoints;
using Dclm.Eval;
using Dclm.Eval.Code;
using Dclm.Eval.Reports;
using Dclm.Eval.Runners;
using Dclm.Eval.Tasks;
using Spectre.Console;

namespace Dclm.Cli.Commands;

/// <summary>`dclm eval`: run benchmark tasks and print DCLM-style scores.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = $"model: a Hugging Face checkpoint directory or a GGUF file (default: the built-in {DefaultModel.RelativePath})" };
        var tasks = new Option<string[]>("--tasks") { Description = "task files (.jsonl, .jsonl.gz), suite or task files (.yaml), or shipped names: lm-evaluation-harness tasks (mmlu, mmlu_stem, mmlu_anatomy, hellaswag, arc_easy, arc_challenge, piqa, winogrande, boolq, openbookqa, lambada_openai), DCLM's core suite, shipped, ham_exam, lambada_moby_dick, humaneval; comma-separated or repeated", Required = true };
        var dataDirectory = new Option<string?>("--data-dir") { Description = "where task data lies as Hugging Face exports it: DIR/<task>/<split>.jsonl or .parquet (mmlu: DIR/mmlu/<subject>/); suites' dataset_uri paths are looked for here too" };
        var server = new Option<string?>("--server") { Description = "evaluate through an OpenAI-compatible completions endpoint instead of a local model, e.g. http://localhost:8080: log-likelihoods from echo + logprobs, generation and code tasks generated there (infill needs --model)" };
        var apiKey = new Option<string?>("--api-key") { Description = "bearer token for --server (default: $OPENAI_API_KEY)" };
        var maxLength = new Option<int?>("--max-length") { Description = "longest scored sequence (context + continuation) in tokens, cut from the left (default: harness tasks the model's context + 1 in process and the server's context - 1 over HTTP, as lm-evaluation-harness; llm-foundry tasks the window, at most)" };
        var logSamples = new Option<bool>("--log-samples") { Description = "harness tasks: keep every request's texts, token ids and log-likelihood in the JSON report (lm-evaluation-harness's --log_samples)" };
        var bootstrap = new Option<int>("--bootstrap-iters") { Description = "resamples for bootstrapped standard errors (perplexity), as lm-evaluation-harness's --bootstrap_iters; 0 skips them", DefaultValueFactory = _ => Dclm.Eval.Reports.Statistics.DefaultBootstrapIterations };
        var shots = new Option<int?>("--shots") { Description = "few-shot examples per question (overrides the suite)" };
        var limit = new Option<int?>("--limit") { Description = "evaluate only the first N items of each task" };
        var output = new Option<string?>("--output") { Description = "write the JSON report here (and a Markdown table beside it, .md)" };
        var canonical = new Option<bool>("--use-canonical-solutions") { Description = "code tasks: run the canonical solutions (checks the harness and sandbox; no model needed)" };
        var samples = new Option<int?>("--samples") { Description = "code tasks: completions per problem (n of pass@k)" };
        var passAtK = new Option<int[]>("--pass-at-k") { Description = "code tasks: k values of pass@k (repeatable)", AllowMultipleArgumentsPerToken = true };
        var timeout = new Option<double>("--timeout") { Description = "code tasks: seconds each program may run", DefaultValueFactory = _ => 10 };
        var seed = new Option<ulong>("--seed") { Description = "seed for sampled completions", DefaultValueFactory = _ => 42UL };
        var noSharing = new Option<bool>("--no-kv-sharing") { Description = "score every choice with its own full forward pass instead of sharing the question's context (slow reference, for comparisons)" };
        var tasksDirectory = new Option<string?>("--tasks-dir") { Description = "where shipped suites live (default: beside the program, $DCLM_TASKS, or ./tasks)" };
        var threads = ModelOptions.Threads();
        var lora = ModelOptions.Lora();
        var command = new Command("eval", "Evaluate a model on multiple-choice, schema, language-modelling, generation and code tasks")
        {
            model, tasks, shots, limit, output, canonical, samples, passAtK, timeout, seed, noSharing, tasksDirectory, threads,
            dataDirectory, server, apiKey, maxLength, bootstrap, logSamples, lora,
        };
        var device = DeviceOptions.Device();
        command.Options.Add(device);
        command.Subcommands.Add(EvalCompareCommand.Create());
        command.SetAction((parse, cancellation) => CliErrors.RunAsync(() =>
        {
            string on = parse.GetValue(device)!;
            var specs = TaskCatalog.ResolveAll(parse.GetValue(tasks)!, parse.GetValue(tasksDirectory), parse.GetValue(dataDirectory));
            specs = specs.Select(s => Override(s, parse.GetValue(shots), parse.GetValue(samples), parse.GetValue(passAtK))).ToArray();
            var options = new EvalOptions
            {
                DataDirectory = parse.GetValue(dataDirectory), MaxLength = parse.GetValue(maxLength), BootstrapIterations = parse.GetValue(bootstrap), LogSamples = parse.GetValue(logSamples),
                Limit = parse.GetValue(limit), Seed = parse.GetValue(seed), UseCanonicalSolutions = parse.GetValue(canonical),
                ShareContext = !parse.GetValue(noSharing),
                Progress = Console.IsErrorRedirected ? null : ShowProgress,
                Sandbox = new SandboxOptions { TimeLimit = TimeSpan.FromSeconds(parse.GetValue(timeout)) },
            };
            string? serverUrl = parse.GetValue(server);
            if (serverUrl is not null && parse.GetValue(model) is not null) throw new ArgumentException("give either --model or --server, not both");
            bool needsModel = serverUrl is null && !(options.UseCanonicalSolutions && specs.All(IsCode));
            string? modelPath = parse.GetValue(model) ?? (needsModel ? DefaultModel.Locate() : null);
            if (modelPath is null && needsModel)
                throw new ArgumentException($"--model is required: there is no built-in {DefaultModel.RelativePath} (only code tasks with --use-canonical-solutions run without a model)");
            if (Gpu.GpuDevice.IsAccelerator(on) && modelPath is null) throw new ArgumentException("--device runs a local model: give --model (a --server runs its model where it was started)");
            if (modelPath is not null) DeviceOptions.Check(on);
            using var pool = new Tensors.Compute.ComputePool(Math.Max(1, parse.GetValue(threads)));
            using var loaded = modelPath is null ? null : ModelLoader.Load(modelPath, pool);
            if (loaded is null && parse.GetValue(lora) is not null) throw new ArgumentException("--lora needs --model (an adapter cannot be applied to a --server)");
            var adapters = loaded is null ? null : ModelOptions.ApplyLora(loaded, parse.GetValue(lora));
            using var run = loaded is null ? null : DeviceOptions.Open(loaded.Model, on, adapters);
            using var remote = serverUrl is null ? null
                : Dclm.Eval.Scoring.RemoteScoringModel.Connect(serverUrl, parse.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("OPENAI_API_KEY"));
            var evaluator = remote is not null ? new Evaluator(remote, options: options) : new Evaluator(run?.Model, loaded?.RequireTokenizer(), options);
            string? modelName = remote is not null ? $"{remote.ModelId} at {serverUrl}" : modelPath;
            var clock = Stopwatch.StartNew();
            var report = evaluator.RunAll(specs, modelName, task => Console.Error.WriteLine($"running {task.Label} ({Source(task)}, {task.Shots}-shot)"), cancellation);
            PrintTable(report, options.ShareContext);
            Console.WriteLine($"{report.Tasks.Sum(t => t.Items)} items in {clock.Elapsed.TotalSeconds:F1} s");
            if (parse.GetValue(output) is string path)
            {
                var (json, markdown) = ReportWriter.Write(report, path);
                Console.WriteLine($"wrote {json} and {markdown}");
            }
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary>A live "done/total" count on the terminal; logs (redirected stderr) stay clean.</summary>
    private static void ShowProgress(int done, int total)
    {
        if (done == total || done % 10 == 0) Console.Error.Write(done == total ? $"\r{done}/{total}\n" : $"\r{done}/{total}");
    }

    private static bool IsCode(EvalTask task) => task is TaskSpec spec && (spec.Kind == TaskKind.Code || (spec.Kind is null && TaskFileReader.Read(spec.DatasetPath).Kind == TaskKind.Code));

    private static string Source(EvalTask task) => task switch
    {
        TaskSpec spec => spec.DatasetPath,
        Dclm.Eval.Harness.HarnessTask harness => $"lm-evaluation-harness, {harness.SourceFile}",
        _ => task.Label,
    };

    private static EvalTask Override(EvalTask task, int? shots, int? samples, int[]? passAtK)
    {
        if (task is Dclm.Eval.Harness.HarnessTask harness) return shots is int count ? (harness with { Shots = count }).Validate() : harness;
        var spec = (TaskSpec)task;
        if (shots is int k) spec = spec with { Shots = k };
        if (samples is int n) spec = spec with { Samples = n, PassAtK = spec.PassAtK.Where(x => x <= n).DefaultIfEmpty(1).ToArray() };
        if (passAtK is { Length: > 0 }) spec = spec with { PassAtK = passAtK };
        return spec.Validate();
    }

    private static void PrintTable(EvalReport report, bool sharing)
    {
        var table = new Table().Title($"dclm eval: {Markup.Escape(report.Model ?? "canonical solutions (no model)")}");
        foreach (var column in new[] { "task", "kind", "shots", "items", "metric", "score", "random", "centred", "items/s", "passes" }) table.AddColumn(column);
        foreach (var t in report.Tasks)
        {
            table.AddRow(Markup.Escape(t.Label), TaskKinds.Name(t.Kind), t.Shots.ToString(), t.Items.ToString(), Markup.Escape(t.PrimaryMetric),
                t.Accuracy.ToString("F4"), t.RandomBaseline.ToString("F4"), t.CenteredAccuracy.ToString("F4"), t.ItemsPerSecond.ToString("F1"),
                t.BatchedPasses > 0 ? $"{t.BatchedPasses} ({(double)t.BatchedPasses / t.Items:F2}/item)" : "-");
        }
        table.Caption($"CORE-style aggregate (mean centred accuracy over {report.Tasks.Count} task(s)): {report.Core:F4}");
        // Piped output has no terminal width; keep rows whole for logs and scripts.
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 240;
        AnsiConsole.Write(table);
        foreach (var t in report.Tasks.Where(t => t.Reference != "lm-evaluation-harness" && t.Metrics.Count > 1))
            Console.WriteLine($"{t.Label}: {string.Join(", ", t.Metrics.Select(m => $"{m.Key} {m.Value:F4}"))}");
        foreach (var t in report.Tasks.Where(t => t.BatchedPasses > 0))
            Console.WriteLine($"{t.Label}: {t.Items} questions in {t.Seconds:F1} s = {t.ItemsPerSecond:F2} questions/s; {t.BatchedPasses} {(sharing ? "batched" : "unshared")} forward passes ({(double)t.BatchedPasses / t.Items:F2} per question)");
        string harness = ReportWriter.HarnessTables(report);
        if (harness.Length > 0) Console.Write(harness);
        if (report.Sandbox is not null) Console.WriteLine($"sandbox: {report.Sandbox}");
    }
}
