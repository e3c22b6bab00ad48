using Dclm.Inference;
using System.Diagnostics;
using Dclm.Eval.Generation;
using Dclm.Eval.Prompting;
using Dclm.Eval.Reports;
using Dclm.Eval.Scoring;
using Dclm.Eval.Tasks;

namespace Dclm.Eval.Runners;

/// <summary>
/// Generation tasks with answers: greedy generation until a stop string or the longest answer's token
/// count (plus 10 with chain of thought, as llm-foundry), then a normalised prefix match against the
/// answer and its aliases.
/// </summary>
internal static class GenerationRunner
{
    public static TaskResult Run(TaskSpec spec, IReadOnlyList<TaskItem> items, int count, ICompletionModel model, PromptEncoder encoder, EvalOptions options, CancellationToken cancellation)
    {
        var builder = new PromptBuilder(spec, items);
        int longest = items.OfType<GenerationItem>().SelectMany(g => g.Aliases.Append(g.Answer)).Max(a => encoder.Encode(a, addSpecialTokens: true).Length);
        int maxTokens = Math.Max(1, longest + (spec.ChainOfThoughtDelimiter.Length > 0 ? 10 : 0));
        var results = new List<ItemResult>(count);
        var stability = new List<OutputStability>(count);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            var item = (GenerationItem)items[i];
            string preamble = builder.Preamble(i);
            string promptText = builder.Context(item, preamble);
            var prompt = encoder.Context(preamble, promptText, spec.StripData);
            int room = model.ContextLength - maxTokens;
            if (prompt.Length > room) prompt = prompt[^Math.Max(1, room)..];
            string output = model.Complete(prompt, new CompletionRequest(maxTokens, spec.StopStrings), cancellation);
            if (model.LastStability is { } measured) stability.Add(measured);
            string answer = spec.ChainOfThoughtDelimiter.Length > 0 ? output.Split(spec.ChainOfThoughtDelimiter)[^1] : output;
            bool correct = AnswerNormalizer.Matches(answer, item.Aliases.Append(item.Answer), spec.NormalizeAnswers);
            results.Add(new ItemResult { Id = item.Id, Correct = correct, Prompt = preamble + promptText, Expected = item.Answer, Output = output });
            options.Progress?.Invoke(i + 1, count);
        }
        return new TaskResult
        {
            Label = spec.Label, Kind = TaskKind.Generation, DatasetPath = spec.DatasetPath, Shots = spec.Shots,
            Items = results.Count, PrimaryMetric = "exact_match",
            Metrics = new Dictionary<string, double> { ["exact_match"] = results.Count == 0 ? 0 : results.Count(r => r.Correct) / (double)results.Count },
            RandomBaseline = spec.RandomBaseline ?? 0, Seconds = clock.Elapsed.TotalSeconds, ItemResults = results,
            Stability = OutputStabilitySummary.Of(stability),
        };
    }
}
