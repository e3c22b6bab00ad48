using Dclm.Eval.Tasks;

namespace Dclm.Eval.Prompting;

/// <summary>
/// Builds prompt text the way llm-foundry's in-context-learning datasets do:
/// preamble = prompt string + shots, each shot = [example delimiter] + prelimiter + context +
/// continuation delimiter + answer; the question's context is built the same way without the answer.
/// Schema tasks build one context per option and put the shared continuation after each.
/// </summary>
public sealed class PromptBuilder
{
    private readonly TaskSpec _spec;
    private readonly IReadOnlyList<TaskItem> _items;
    private readonly FewShotSampler _sampler;
    private int _nextItem;

    public PromptBuilder(TaskSpec spec, IReadOnlyList<TaskItem> items)
    {
        _spec = spec;
        _items = items;
        _sampler = new FewShotSampler(items.Count, spec.FewShotSeed);
    }

    /// <summary>
    /// The prompt string and shots that go before item <paramref name="itemIndex"/>. Items must be asked
    /// for in order (0, 1, 2, ...) because the shot sample shares one seeded generator, as in llm-foundry.
    /// </summary>
    public string Preamble(int itemIndex)
    {
        if (itemIndex != _nextItem) throw new InvalidOperationException($"preambles are built in item order; expected item {_nextItem}, got {itemIndex}");
        _nextItem++;
        string text = _spec.PromptString;
        if (_spec.Shots == 0) return text;
        foreach (int shot in _sampler.Sample(_spec.Shots, itemIndex)) text += Shot(_items[shot], text.Length > 0);
        return text;
    }

    /// <summary>The context of a non-schema item: [example delimiter] + prelimiter + query + continuation delimiter.</summary>
    public string Context(TaskItem item, string preamble)
    {
        string context = _spec.Prelimiter + Query(item);
        if (preamble.Length > 0) context = _spec.ExampleDelimiter + context;
        return context + _spec.ContinuationDelimiter;
    }

    /// <summary>
    /// The contexts of a schema item, one per option. As in llm-foundry, the continuation delimiter is
    /// only added (right-stripped) when shots or a prompt come before, and the prelimiter comes first.
    /// </summary>
    public IReadOnlyList<string> SchemaContexts(SchemaItem item, string preamble)
    {
        if (preamble.Length == 0) return item.ContextOptions.Select(c => _spec.Prelimiter + c).ToArray();
        string delimiter = _spec.StripData ? _spec.ContinuationDelimiter.TrimEnd() : _spec.ContinuationDelimiter;
        return item.ContextOptions.Select(c => _spec.Prelimiter + _spec.ExampleDelimiter + c + delimiter).ToArray();
    }

    private string Shot(TaskItem item, bool hasPrecedingText)
    {
        if (item is SchemaItem schema)
        {
            string context = schema.ContextOptions[schema.Gold];
            if (hasPrecedingText) context = _spec.ExampleDelimiter + context;
            return _spec.Prelimiter + context + _spec.ContinuationDelimiter + schema.Continuation;
        }
        string text = _spec.Prelimiter + Query(item);
        if (hasPrecedingText) text = _spec.ExampleDelimiter + text;
        return text + _spec.ContinuationDelimiter + Answer(item);
    }

    private static string Query(TaskItem item) => item switch
    {
        MultipleChoiceItem mc => mc.Query,
        LanguageModelingItem lm => lm.Context,
        GenerationItem g => g.Context,
        CodeItem code => code.Prompt,
        _ => throw new ArgumentException($"no query for {item.GetType().Name}"),
    };

    /// <summary>The answer a shot shows (no prefix space is added inside a prompt, as in llm-foundry).</summary>
    private static string Answer(TaskItem item) => item switch
    {
        MultipleChoiceItem mc => mc.Choices[mc.Gold],
        LanguageModelingItem lm => lm.Continuation,
        GenerationItem g => g.Answer,
        CodeItem code => code.CanonicalSolution,
        _ => "",
    };
}
