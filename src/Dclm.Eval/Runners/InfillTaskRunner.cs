using System.Diagnostics;
using Dclm.Eval.Code;
using Dclm.Eval.Prompting;
using Dclm.Eval.Reports;
using Dclm.Eval.Tasks;
using Dclm.Inference;
using Dclm.Models;
using Dclm.Tokenizers;

namespace Dclm.Eval.Runners;

/// <summary>
/// HumanEval-infilling: each problem's canonical solution has lines masked (<see cref="InfillProblems"/>); the model fills
/// the gap from an infill prompt laid out with its tokenizer's FIM tokens (<see cref="InfillPrompt"/>, llama-server's
/// layout), and prefix + fill + suffix runs with the problem's tests in the sandbox, scored pass@k.
/// </summary>
internal static class InfillTaskRunner
{
    /// <summary>Slack on top of the longest masked part, as the completion runner allows.</summary>
    private const int AnswerBuffer = 10;

    /// <remarks>The run's limit counts masked problems (a single-line task has several per source problem).</remarks>
    public static TaskResult Run(TaskSpec spec, IReadOnlyList<TaskItem> items, IDecoderModel? model, PromptEncoder? encoder,
        PythonSandbox sandbox, EvalOptions options, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var problems = InfillProblems.Mask(items.Cast<CodeItem>().ToArray(), spec.Infill, spec.FewShotSeed).Take(options.Limit ?? int.MaxValue).ToArray();
        int samples = options.UseCanonicalSolutions ? 1 : spec.Samples;
        var ks = options.UseCanonicalSolutions ? [1] : spec.PassAtK;
        var fills = options.UseCanonicalSolutions
            ? problems.Select(p => new[] { p.Middle }).ToArray()
            : Generate(spec, problems, samples, model ?? throw new ArgumentException("infill tasks need an in-process model, --model, for its tokenizer's FIM tokens (or --use-canonical-solutions)"),
                encoder?.Tokenizer ?? throw new ArgumentException("infill tasks need a model with a tokenizer"), options, cancellation);
        var programs = problems.Select((p, i) => fills[i].Select(f => HumanEvalProgram.Build(p.Prefix, f + p.Suffix, p.Test, p.EntryPoint)).ToArray()).ToArray();
        return CodeTaskRunner.Score(spec, problems.Select(p => p.Id).ToArray(), fills, programs, samples, ks, sandbox, options, clock, cancellation);
    }

    private static string[][] Generate(TaskSpec spec, InfillProblem[] problems, int samples, IDecoderModel model, Tokenizer tokenizer,
        EvalOptions options, CancellationToken cancellation)
    {
        if (tokenizer.FillInMiddle.MissingReason() is { } reason) throw new ArgumentException($"task {spec.Label}: {reason}");
        int[] ends = tokenizer.FillInMiddle.EndTokens();
        var generator = new TextGenerator(model, tokenizer);
        int window = model.Config.ContextLength;
        int maxTokens = Math.Min(problems.Max(p => tokenizer.Encode(p.Middle).Length) + AnswerBuffer, window / 4);
        var fills = new string[problems.Length][];
        for (int i = 0; i < problems.Length; i++)
        {
            var input = new InfillInput(tokenizer.Encode(problems[i].Prefix), tokenizer.Encode(problems[i].Suffix), [], []);
            int[] prompt = InfillPrompt.Build(tokenizer, input, InfillPrompt.DefaultBudget(window, maxTokens));
            fills[i] = new string[samples];
            for (int s = 0; s < samples; s++)
            {
                cancellation.ThrowIfCancellationRequested();
                var sampling = new SamplingOptions
                {
                    Temperature = spec.Temperature, TopK = 50, TopP = 1, MinP = 0, MaxTokens = maxTokens, Seed = options.Seed + (ulong)(i * 1000 + s),
                };
                var text = new System.Text.StringBuilder();
                foreach (var chunk in generator.Generate(prompt, sampling, cancellation))
                {
                    if (ends.Contains(chunk.TokenId)) break;
                    text.Append(chunk.Text);
                }
                fills[i][s] = spec.Infill == InfillMode.SingleLine ? InfillProblems.TruncateSingleLine(text.ToString()) : text.ToString();
            }
            options.Progress?.Invoke(i + 1, problems.Length);
        }
        return fills;
    }
}
