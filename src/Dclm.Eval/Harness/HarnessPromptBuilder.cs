using System.Text;
using System.Text.Json.Nodes;

namespace Dclm.Eval.Harness;

/// <summary>One log-likelihood request: score <see cref="Continuation"/> after <see cref="Context"/>.</summary>
public sealed record HarnessRequest(string Context, string Continuation);

/// <summary>A document's requests (one per choice, or one for log-likelihood tasks), the gold index and the choices' texts.</summary>
public sealed record HarnessQuestion(IReadOnlyList<HarnessRequest> Requests, int Gold, IReadOnlyList<string> Choices);

/// <summary>
/// Builds the harness's requests for each document: fewshot_context (description, then each shot as
/// question + target delimiter + answer + few-shot delimiter, then the question) and construct_requests
/// (multiple choice: the context with target delimiter + each choice; several inputs, as Winogrande:
/// each context with target delimiter + the shared target; log-likelihood: the context and the target as
/// it is). Documents must be built in order: the shot sampler's generator runs on from one to the next.
/// </summary>
public sealed class HarnessPromptBuilder
{
    private readonly HarnessTask _task;
    private readonly HarnessSampler _sampler;
    private readonly bool _hasChoices;

    public HarnessPromptBuilder(HarnessTask task, IReadOnlyList<JsonObject> fewShotDocuments)
    {
        _task = task;
        _sampler = new HarnessSampler(task, fewShotDocuments);
        _hasChoices = task.DocToChoice is not null;
    }

    /// <summary>The requests for <paramref name="document"/>.</summary>
    public HarnessQuestion Build(JsonObject document)
    {
        var prefix = new StringBuilder(_task.Description);
        foreach (var shot in _sampler.Sample(_task.Shots, document)) AppendShot(prefix, shot);
        object? text = _task.DocToText.Evaluate(document, _hasChoices);
        var choices = _hasChoices ? Choices(document) : [];
        if (text is long gold)
        {
            // Several inputs (Winogrande): each choice is a context, the target is the shared continuation.
            string target = Text(_task.DocToTarget.Evaluate(document, _hasChoices), "doc_to_target");
            var requests = choices.Select(c => new HarnessRequest(prefix + c, _task.TargetDelimiter + target)).ToList();
            return new HarnessQuestion(requests, Index(gold, choices.Count), choices);
        }
        string context = prefix + Text(text, "doc_to_text");
        if (_task.OutputType == HarnessOutputType.LogLikelihood)
            return new HarnessQuestion([new HarnessRequest(context, Text(_task.DocToTarget.Evaluate(document, _hasChoices), "doc_to_target"))], 0, []);
        return new HarnessQuestion(choices.Select(c => new HarnessRequest(context, _task.TargetDelimiter + c)).ToList(), Gold(document, choices), choices);
    }

    /// <summary>build_qa_turn for a shot: question + target delimiter + answer + few-shot delimiter (nothing after the question when the answer is empty).</summary>
    private void AppendShot(StringBuilder prompt, JsonObject shot)
    {
        object? question = _task.DocToText.Evaluate(shot, _hasChoices);
        IReadOnlyList<string>? choices = _hasChoices ? Choices(shot) : null;
        object? answer = _task.DocToTarget.Evaluate(shot, _hasChoices);
        if (question is long index)
        {
            question = choices![Index(index, choices.Count)];
            choices = null;
        }
        prompt.Append(Text(question, "doc_to_text"));
        if (answer is null || answer is "") return;
        prompt.Append(_task.TargetDelimiter);
        string answerText = answer switch
        {
            long i when choices is { Count: > 0 } => choices[Index(i, choices.Count)],
            IList<object?> list => Template.Render(list[0]),
            _ => Template.Render(answer),
        };
        prompt.Append(answerText).Append(_task.FewShotDelimiter);
    }

    private List<string> Choices(JsonObject document) => _task.DocToChoice!.Evaluate(document, _hasChoices) switch
    {
        IList<object?> list => list.Select(c => c as string ?? Template.Render(c)).ToList(),
        var other => throw new FormatException($"doc_to_choice gave {Template.Render(other)}, not a list"),
    };

    /// <summary>The gold index: an integer target, or the position of a text target among the choices.</summary>
    private int Gold(JsonObject document, IReadOnlyList<string> choices) => _task.DocToTarget.Evaluate(document, _hasChoices) switch
    {
        long i => Index(i, choices.Count),
        string s => choices.ToList().IndexOf(s) is int j and >= 0 ? j : throw new FormatException($"target '{s}' is not one of the choices"),
        var other => throw new FormatException($"doc_to_target gave {Template.Render(other)}, neither an index nor a choice"),
    };

    private static int Index(long i, int count) => i >= 0 && i < count ? (int)i : throw new FormatException($"gold index {i} is outside the {count} choices");

    private static string Text(object? value, string field) => value as string ?? throw new FormatException($"{field} gave {Template.Render(value)}, not text");
}
