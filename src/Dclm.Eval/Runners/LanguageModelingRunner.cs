using System.Diagnostics;
using Dclm.Eval.Prompting;
using Dclm.Eval.Reports;
using Dclm.Eval.Scoring;
using Dclm.Eval.Tasks;

namespace Dclm.Eval.Runners;

/// <summary>Language-modelling tasks (LAMBADA and the like): correct when greedy argmax reproduces every continuation token.</summary>
internal static class LanguageModelingRunner
{
    public static TaskResult Run(TaskSpec spec, IReadOnlyList<TaskItem> items, int count, PromptEncoder encoder, IScoringModel model, EvalOptions options, CancellationToken cancellation)
    {
        var builder = new PromptBuilder(spec, items);
        var results = new List<ItemResult>(count);
        long passesBefore = model.BatchedPasses;
        var clock = Stopwatch.StartNew();
        double logProbability = 0;
        long tokens = 0;
        for (int i = 0; i < count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            var item = (LanguageModelingItem)items[i];
            string preamble = builder.Preamble(i);
            string contextText = builder.Context(item, preamble);
            var context = encoder.Context(preamble, contextText, spec.StripData);
            string continuation = encoder.ContinuationText(item.Continuation);
            var score = model.Score([new ScoringOption(context, encoder.Continuation(item.Continuation))], options.LongestFor(model), cancellation)[0];
            logProbability += score.LogProbability;
            tokens += score.Tokens;
            results.Add(new ItemResult
            {
                Id = item.Id, Correct = score.GreedyMatch, Prompt = preamble + contextText, Expected = continuation,
                Choices = [new ChoiceResult(continuation, score.LogProbability, score.Tokens, System.Text.Encoding.UTF8.GetByteCount(continuation))],
            });
            options.Progress?.Invoke(i + 1, count);
        }
        return new TaskResult
        {
            Label = spec.Label, Kind = TaskKind.LanguageModeling, DatasetPath = spec.DatasetPath, Shots = spec.Shots,
            Items = results.Count, PrimaryMetric = "accuracy",
            Metrics = new Dictionary<string, double>
            {
                ["accuracy"] = results.Count == 0 ? 0 : results.Count(r => r.Correct) / (double)results.Count,
                ["continuation_mean_cross_entropy"] = tokens == 0 ? 0 : -logProbability / tokens,
            },
            RandomBaseline = spec.RandomBaseline ?? 0, Seconds = clock.Elapsed.TotalSeconds,
            BatchedPasses = model.BatchedPasses - passesBefore, ItemResults = results,
        };
    }
}
