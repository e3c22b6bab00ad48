namespace Dclm.Eval.Tasks;

/// <summary>One question of a task, already validated.</summary>
public abstract record TaskItem
{
    /// <summary>The item's id from the file, or its 0-based line number.</summary>
    public required string Id { get; init; }
    /// <summary>The record's <c>category</c> field, if any (llm-foundry's has_categories splits a task by it).</summary>
    public string? Category { get; init; }
}

/// <summary>A multiple-choice question: <see cref="Query"/> followed by one of <see cref="Choices"/>.</summary>
public sealed record MultipleChoiceItem(string Query, IReadOnlyList<string> Choices, int Gold) : TaskItem;

/// <summary>A schema question: one of <see cref="ContextOptions"/> followed by the shared <see cref="Continuation"/>.</summary>
public sealed record SchemaItem(IReadOnlyList<string> ContextOptions, string Continuation, int Gold) : TaskItem;

/// <summary>A language-modelling item: <see cref="Continuation"/> must follow <see cref="Context"/> token for token.</summary>
public sealed record LanguageModelingItem(string Context, string Continuation) : TaskItem;

/// <summary>A generation item: the generated text must start with <see cref="Answer"/> or one of <see cref="Aliases"/> (normalised).</summary>
public sealed record GenerationItem(string Context, string Answer, IReadOnlyList<string> Aliases) : TaskItem;

/// <summary>A HumanEval problem: complete <see cref="Prompt"/> so that <see cref="Test"/>'s <c>check(entry_point)</c> passes.</summary>
public sealed record CodeItem(string Prompt, string CanonicalSolution, string Test, string EntryPoint) : TaskItem;
