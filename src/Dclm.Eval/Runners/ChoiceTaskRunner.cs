using System.Diagnostics;
using System.Text;
using Dclm.Eval.Prompting;
using Dclm.Eval.Reports;
using Dclm.Eval.Scoring;
using Dclm.Eval.Tasks;

namespace Dclm.Eval.Runners;

/// <summary>
/// Multiple-choice and schema tasks. Each choice is scored by the log-probability of its continuation;
/// the primary metric is llm-foundry's (lowest mean per-token cross-entropy), with the unnormalised
/// (highest total log-probability) and byte-normalised (highest log-probability per UTF-8 byte)
/// variants reported beside it. Ties go to the first choice.
/// </summary>
internal static class ChoiceTaskRunner
{
    public static TaskResult Run(TaskSpec spec, IReadOnlyList<TaskItem> items, int count, PromptEncoder encoder, IScoringModel model, EvalOptions options, CancellationToken cancellation)
    {
        var builder = new PromptBuilder(spec, items);
        var results = new List<ItemResult>(count);
        long passesBefore = model.BatchedPasses;
        var clock = Stopwatch.StartNew();
        double baselineSum = 0;
        for (int i = 0; i < count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            string preamble = builder.Preamble(i);
            ScoringOption[] scoring;
            string[] texts;
            string[] continuationTexts;
            int gold;
            string? prompt = null;
            if (items[i] is SchemaItem schema)
            {
                var contexts = builder.SchemaContexts(schema, preamble);
                var continuation = encoder.Continuation(schema.Continuation);
                scoring = contexts.Select(c => new ScoringOption(encoder.Context(preamble, c, strip: false), continuation)).ToArray();
                texts = schema.ContextOptions.ToArray();
                continuationTexts = contexts.Select(_ => encoder.ContinuationText(schema.Continuation)).ToArray();
                gold = schema.Gold;
            }
            else
            {
                var mc = (MultipleChoiceItem)items[i];
                string contextText = builder.Context(mc, preamble);
                prompt = preamble + contextText;
                var context = encoder.Context(preamble, contextText, spec.StripData);
                scoring = mc.Choices.Select(c => new ScoringOption(context, encoder.Continuation(c))).ToArray();
                texts = mc.Choices.ToArray();
                continuationTexts = mc.Choices.Select(encoder.ContinuationText).ToArray();
                gold = mc.Gold;
            }
            var scores = model.Score(scoring, options.LongestFor(model), cancellation);
            var choices = scores.Select((s, j) => new ChoiceResult(texts[j], s.LogProbability, s.Tokens, Encoding.UTF8.GetByteCount(continuationTexts[j]))).ToArray();
            int predicted = ArgBest(choices, c => -c.MeanCrossEntropy);
            results.Add(new ItemResult
            {
                Id = items[i].Id, Correct = predicted == gold, Prompt = prompt, Gold = gold, Predicted = predicted,
                PredictedUnnormalized = ArgBest(choices, c => c.LogProbability),
                PredictedByteNormalized = ArgBest(choices, c => c.LogProbability / Math.Max(1, c.Bytes)),
                Choices = choices,
            });
            baselineSum += 1.0 / choices.Length;
            options.Progress?.Invoke(i + 1, count);
        }
        double Rate(Func<ItemResult, bool> correct) => results.Count == 0 ? 0 : results.Count(correct) / (double)results.Count;
        return new TaskResult
        {
            Label = spec.Label, Kind = items[0] is SchemaItem ? TaskKind.Schema : TaskKind.MultipleChoice, DatasetPath = spec.DatasetPath,
            Shots = spec.Shots, Items = results.Count, PrimaryMetric = "accuracy",
            Metrics = new Dictionary<string, double>
            {
                ["accuracy"] = Rate(r => r.Correct),
                ["accuracy_unnormalized"] = Rate(r => r.PredictedUnnormalized == r.Gold),
                ["accuracy_bytes"] = Rate(r => r.PredictedByteNormalized == r.Gold),
            },
            RandomBaseline = spec.RandomBaseline ?? (results.Count == 0 ? 0 : baselineSum / results.Count),
            Seconds = clock.Elapsed.TotalSeconds, BatchedPasses = model.BatchedPasses - passesBefore, ItemResults = results,
        };
    }

    /// <summary>Index of the highest value; the first on ties.</summary>
    private static int ArgBest(ChoiceResult[] choices, Func<ChoiceResult, double> value)
    {
        int best = 0;
        for (int j = 1; j < choices.Length; j++) if (value(choices[j]) > value(choices[best])) best = j;
        return best;
    }
}
