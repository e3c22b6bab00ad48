using System.Diagnostics;
using System.Text;
using Dclm.Eval.Harness;
using Dclm.Eval.Reports;
using Dclm.Eval.Scoring;
using Dclm.Eval.Tasks;

namespace Dclm.Eval.Runners;

/// <summary>
/// Runs an lm-evaluation-harness task: builds each document's requests as the harness does, tokenizes
/// them with <c>_encode_pair</c>, scores them, and computes the harness's metrics: multiple choice
/// acc = argmax log-likelihood, acc_norm = argmax log-likelihood / len(choice) in characters (first index
/// on ties, as numpy's argmax); log-likelihood tasks acc = the target is the greedy continuation and
/// perplexity = exp(−mean log-likelihood). Standard errors: mean_stderr for acc and acc_norm, a bootstrap
/// for perplexity, both as the harness computes them.
/// </summary>
internal static class HarnessTaskRunner
{
    public static TaskResult Run(HarnessTask task, HarnessDocuments documents, int count, IScoringModel model, int longest, EvalOptions options, CancellationToken cancellation)
    {
        var builder = new HarnessPromptBuilder(task, documents.FewShot);
        var encoder = new HarnessEncoder(model);
        var results = new List<ItemResult>(count);
        var acc = new List<double>(count);
        var accNorm = new List<double>(count);
        var logLikelihoods = new List<double>(count);
        long passesBefore = model.BatchedPasses;
        double baselineSum = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            HarnessQuestion question;
            try { question = builder.Build(documents.Evaluated[i]); }
            catch (FormatException e) { throw new InvalidDataException($"task {task.Label}: document {i} of {Path.Combine(documents.Folder, task.EvaluationSplit)}: {e.Message}"); }
            var encoded = question.Requests.Select(encoder.Encode).ToArray();
            var scores = model.Score(encoded, longest, cancellation);
            string id = Id(documents.Evaluated[i], i);
            var samples = options.LogSamples
                ? question.Requests.Select((r, j) => new RequestResult(r.Context, r.Continuation, encoded[j].Context, encoded[j].Continuation, scores[j].LogProbability, scores[j].GreedyMatch)).ToArray()
                : null;
            if (task.OutputType == HarnessOutputType.LogLikelihood)
            {
                var request = question.Requests[0];
                acc.Add(scores[0].GreedyMatch ? 1 : 0);
                logLikelihoods.Add(scores[0].LogProbability);
                results.Add(new ItemResult
                {
                    Id = id, Correct = scores[0].GreedyMatch, Prompt = request.Context, Expected = request.Continuation, Requests = samples,
                    Choices = [new ChoiceResult(request.Continuation, scores[0].LogProbability, scores[0].Tokens, Encoding.UTF8.GetByteCount(request.Continuation))],
                });
            }
            else
            {
                var choices = question.Choices.Select((c, j) => new ChoiceResult(c, scores[j].LogProbability, scores[j].Tokens, Encoding.UTF8.GetByteCount(c))).ToArray();
                int predicted = ArgMax(choices, c => c.LogProbability);
                int predictedNorm = ArgMax(choices, c => c.LogProbability / PythonText.Length(c.Text));
                acc.Add(predicted == question.Gold ? 1 : 0);
                accNorm.Add(predictedNorm == question.Gold ? 1 : 0);
                baselineSum += 1.0 / choices.Length;
                results.Add(new ItemResult
                {
                    Id = id, Correct = predicted == question.Gold, Prompt = question.Requests[0].Context, Gold = question.Gold,
                    Predicted = predicted, PredictedCharacterNormalized = predictedNorm, Choices = choices, Requests = samples,
                    Continuations = question.Requests.Select(r => r.Continuation).Distinct().Count() == 1 && question.Requests.Count > 1 ? [question.Requests[0].Continuation] : null,
                    Contexts = question.Requests.Select(r => r.Context).Distinct().Count() > 1 ? question.Requests.Select(r => r.Context).ToArray() : null,
                });
            }
            options.Progress?.Invoke(i + 1, count);
        }
        var metrics = new Dictionary<string, double>();
        foreach (var metric in task.Metrics)
        {
            switch (metric)
            {
                case "acc":
                    metrics["acc"] = Statistics.Mean(acc);
                    metrics["acc_stderr"] = Statistics.MeanStandardError(acc);
                    break;
                case "acc_norm" when task.OutputType == HarnessOutputType.MultipleChoice:
                    metrics["acc_norm"] = Statistics.Mean(accNorm);
                    metrics["acc_norm_stderr"] = Statistics.MeanStandardError(accNorm);
                    break;
                case "perplexity" when task.OutputType == HarnessOutputType.LogLikelihood:
                    metrics["perplexity"] = Statistics.Perplexity(logLikelihoods);
                    metrics["perplexity_stderr"] = Statistics.BootstrapStandardError(logLikelihoods, Statistics.Perplexity, options.BootstrapIterations, cancellation);
                    break;
            }
        }
        return new TaskResult
        {
            Label = task.Label, Kind = task.OutputType == HarnessOutputType.LogLikelihood ? TaskKind.LanguageModeling : TaskKind.MultipleChoice,
            Reference = "lm-evaluation-harness", Group = task.Group, Category = task.Category, Alias = task.Alias,
            DatasetPath = Path.Combine(documents.Folder, task.EvaluationSplit), Shots = task.Shots, Items = results.Count,
            PrimaryMetric = "acc", Metrics = metrics,
            RandomBaseline = task.OutputType == HarnessOutputType.MultipleChoice && results.Count > 0 ? baselineSum / results.Count : 0,
            Seconds = clock.Elapsed.TotalSeconds, BatchedPasses = model.BatchedPasses - passesBefore, ItemResults = results,
        };
    }

    private static string Id(System.Text.Json.Nodes.JsonObject document, int index) =>
        (document["id"] ?? document["ind"] ?? document["idx"]) is { } node ? Template.Render(Template.FromJson(node)) : index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>numpy.argmax: the first of the largest.</summary>
    private static int ArgMax(ChoiceResult[] choices, Func<ChoiceResult, double> value)
    {
        int best = 0;
        for (int j = 1; j < choices.Length; j++) if (value(choices[j]) > value(choices[best])) best = j;
        return best;
    }
}
