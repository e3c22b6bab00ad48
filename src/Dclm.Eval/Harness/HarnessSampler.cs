using System.Text.Json.Nodes;
using Dclm.Eval.Prompting;

namespace Dclm.Eval.Harness;

/// <summary>
/// The harness's few-shot samplers. Default (ContextSampler): one <c>random.Random(seed)</c> per task,
/// drawn from for each evaluated document in order with <c>rnd.sample(docs, n)</c>; when the few-shot
/// split is the evaluated split by the task's configuration (fewshot_split == test_split, which also holds
/// when both are unset), it draws n + 1 and drops documents equal to the evaluated one, keeping the first n.
/// FirstN: the first n documents (without the evaluated one in that same-split case).
/// </summary>
public sealed class HarnessSampler(HarnessTask task, IReadOnlyList<JsonObject> documents)
{
    private readonly PythonRandom _random = new(task.FewShotSeed);
    private readonly bool _excludeEvaluated = task.FewShotSplit == task.TestSplit;

    /// <summary>The shots for <paramref name="evaluated"/>, in prompt order.</summary>
    public IReadOnlyList<JsonObject> Sample(int shots, JsonObject evaluated)
    {
        if (shots == 0) return [];
        if (task.Sampler == FewShotSampling.FirstN)
        {
            var pool = _excludeEvaluated ? documents.Where(d => !JsonNode.DeepEquals(d, evaluated)).ToList() : documents;
            if (shots > pool.Count) throw new InvalidDataException($"task {task.Label}: {shots} shots requested but the few-shot split has {pool.Count} documents");
            return pool.Take(shots).ToList();
        }
        int draw = _excludeEvaluated ? shots + 1 : shots;
        if (draw > documents.Count) throw new InvalidDataException($"task {task.Label}: {shots} shots need {draw} few-shot documents but the split has {documents.Count}");
        var picked = _random.Sample(documents.Count, draw).Select(i => documents[i]);
        var result = (_excludeEvaluated ? picked.Where(d => !JsonNode.DeepEquals(d, evaluated)).Take(shots) : picked).ToList();
        if (result.Count != shots) throw new InvalidDataException($"task {task.Label}: drew {result.Count} shots, not {shots}");
        return result;
    }
}
