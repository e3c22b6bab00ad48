using System.Diagnostics;
using Dclm.Eval.Code;
using Dclm.Eval.Generation;
using Dclm.Eval.Prompting;
using Dclm.Eval.Reports;
using Dclm.Eval.Tasks;
using Dclm.Inference;
using Dclm.Models;

namespace Dclm.Eval.Runners;

/// <summary>
/// HumanEval-style code tasks: n completions per problem (sampled at the task's temperature with
/// HumanEval's stop sequences, or the canonical solution), each run with the problem's tests in the
/// sandbox, scored with the unbiased pass@k estimator averaged over problems.
/// </summary>
internal static class CodeTaskRunner
{
    /// <summary>llm-foundry's slack on top of the longest canonical solution.</summary>
    private const int AnswerBuffer = 10;

    // generator writes the completions (in process or a server); infill needs the in-process model for its FIM tokens.
    public static TaskResult Run(TaskSpec spec, IReadOnlyList<TaskItem> items, int count, ICompletionModel? generator, IDecoderModel? model, PromptEncoder? encoder,
        PythonSandbox sandbox, EvalOptions options, CancellationToken cancellation)
    {
        if (spec.Infill != InfillMode.None) return InfillTaskRunner.Run(spec, items, model, encoder, sandbox, options, cancellation);
        var clock = Stopwatch.StartNew();
        var problems = items.Take(count).Cast<CodeItem>().ToArray();
        int samples = options.UseCanonicalSolutions ? 1 : spec.Samples;
        var ks = options.UseCanonicalSolutions ? [1] : spec.PassAtK;
        var stability = new List<OutputStability>();
        var completions = options.UseCanonicalSolutions
            ? problems.Select(p => new[] { p.CanonicalSolution }).ToArray()
            : Generate(stability, spec, items, problems, samples, generator ?? throw new ArgumentException("code tasks need a model, in process or a --server (or --use-canonical-solutions)"),
                encoder ?? throw new ArgumentException("code tasks need a model with a tokenizer"), options, cancellation);

        var programs = problems.Select((p, i) => completions[i].Select(c => HumanEvalProgram.Build(p.Prompt, c, p.Test, p.EntryPoint)).ToArray()).ToArray();
        return Score(spec, problems.Select(p => p.Id).ToArray(), completions, programs, samples, ks, sandbox, options, clock, cancellation)
            with { Stability = OutputStabilitySummary.Of(stability) };
    }

    /// <summary>
    /// Runs every program (problem i, sample s) in the sandbox and scores pass@k per problem, averaged; the report keeps
    /// each problem's first completion (all of them when there are several) and each run's outcome.
    /// </summary>
    internal static TaskResult Score(TaskSpec spec, string[] ids, string[][] completions, string[][] programs, int samples, IReadOnlyList<int> ks,
        PythonSandbox sandbox, EvalOptions options, Stopwatch clock, CancellationToken cancellation)
    {
        var jobs = programs.SelectMany((list, i) => list.Select((program, s) => (Problem: i, Sample: s, Program: program))).ToArray();
        var outcomes = new SandboxResult[jobs.Length];
        int done = 0;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.SandboxParallelism, CancellationToken = cancellation };
        Parallel.ForEachAsync(Enumerable.Range(0, jobs.Length), parallel, async (j, token) =>
        {
            outcomes[j] = await sandbox.RunAsync(jobs[j].Program, token);
            options.Progress?.Invoke(Interlocked.Increment(ref done), jobs.Length);
        }).GetAwaiter().GetResult();

        var results = new List<ItemResult>(ids.Length);
        var metrics = ks.Distinct().ToDictionary(k => $"pass@{k}", _ => 0.0);
        for (int i = 0; i < ids.Length; i++)
        {
            var mine = Enumerable.Range(0, jobs.Length).Where(j => jobs[j].Problem == i).Select(j => outcomes[j]).ToArray();
            int passed = mine.Count(o => o.Outcome == SandboxOutcome.Passed);
            foreach (int k in ks.Distinct()) metrics[$"pass@{k}"] += PassAtK.Estimate(samples, passed, k) / ids.Length;
            results.Add(new ItemResult
            {
                Id = ids[i], Correct = passed > 0, Passed = passed, Samples = samples, Output = completions[i][0],
                Completions = samples > 1 ? completions[i] : null,
                Outcomes = mine.Select(Describe).ToArray(),
            });
        }
        return new TaskResult
        {
            Label = spec.Label, Kind = TaskKind.Code, DatasetPath = spec.DatasetPath, Shots = spec.Shots, Items = results.Count,
            PrimaryMetric = $"pass@{ks[0]}", Metrics = metrics, RandomBaseline = spec.RandomBaseline ?? 0,
            Seconds = clock.Elapsed.TotalSeconds, ItemResults = results,
        };
    }

    private static string Describe(SandboxResult result) => result.Outcome switch
    {
        SandboxOutcome.Passed => "passed",
        SandboxOutcome.TimedOut => "timed out",
        _ => "failed: " + LastLine(result.Error),
    };

    private static string LastLine(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? $"exit code without output" : lines[^1];
    }

    private static string[][] Generate(List<OutputStability> stability, TaskSpec spec, IReadOnlyList<TaskItem> items, CodeItem[] problems, int samples, ICompletionModel model,
        PromptEncoder encoder, EvalOptions options, CancellationToken cancellation)
    {
        var builder = new PromptBuilder(spec, items);
        int longest = items.Cast<CodeItem>().Max(p => encoder.Encode(p.CanonicalSolution).Length);
        var completions = new string[problems.Length][];
        for (int i = 0; i < problems.Length; i++)
        {
            // Code keeps its whitespace: the prompt is used as written, after any prompt string and shots.
            string preamble = builder.Preamble(i);
            string context = (preamble.Length > 0 ? spec.ExampleDelimiter : "") + spec.Prelimiter + problems[i].Prompt;
            var prompt = encoder.Context(preamble, context, strip: false);
            // A prompt too long for the model's window loses its start (the program still runs the whole
            // prompt); it keeps at least half the window, and generation gets the rest.
            int window = model.ContextLength;
            int maxTokens = Math.Min(longest + AnswerBuffer, window - Math.Min(prompt.Length, window / 2));
            if (prompt.Length + maxTokens > window) prompt = prompt[^(window - maxTokens)..];
            completions[i] = new string[samples];
            for (int s = 0; s < samples; s++)
            {
                cancellation.ThrowIfCancellationRequested();
                var request = new CompletionRequest(maxTokens, HumanEvalProgram.StopSequences, spec.Temperature, TopK: 50, Seed: options.Seed + (ulong)(i * 1000 + s));
                completions[i][s] = HumanEvalProgram.Truncate(model.Complete(prompt, request, cancellation));
                if (model.LastStability is { } measured) stability.Add(measured);
            }
        }
        return completions;
    }
}
