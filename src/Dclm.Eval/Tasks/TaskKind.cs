namespace Dclm.Eval.Tasks;

/// <summary>How a task's items are scored; the names follow llm-foundry's <c>icl_task_type</c>.</summary>
public enum TaskKind
{
    /// <summary>One context, several continuations; the continuation with the lowest mean per-token cross-entropy wins.</summary>
    MultipleChoice,
    /// <summary>Several contexts, one shared continuation; the context under which the continuation is most likely wins.</summary>
    Schema,
    /// <summary>One context and continuation; correct when greedy argmax reproduces every continuation token.</summary>
    LanguageModeling,
    /// <summary>Greedy generation compared with the answer (and aliases) after normalisation, by prefix match.</summary>
    Generation,
    /// <summary>HumanEval-style code completion, run against its tests in a sandbox and scored with pass@k.</summary>
    Code,
}

/// <summary>Parses and prints task kinds with llm-foundry's spellings.</summary>
public static class TaskKinds
{
    /// <summary>llm-foundry's name of <paramref name="kind"/>.</summary>
    public static string Name(TaskKind kind) => kind switch
    {
        TaskKind.MultipleChoice => "multiple_choice",
        TaskKind.Schema => "schema",
        TaskKind.LanguageModeling => "language_modeling",
        TaskKind.Generation => "generation_task_with_answers",
        _ => "code_evaluation",
    };

    /// <summary>Reads an <c>icl_task_type</c> value; unknown names are a <see cref="FormatException"/>.</summary>
    public static TaskKind Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "multiple_choice" or "mc" => TaskKind.MultipleChoice,
        "schema" => TaskKind.Schema,
        "language_modeling" or "lm" => TaskKind.LanguageModeling,
        "generation_task_with_answers" or "question_answering" or "generation" => TaskKind.Generation,
        "code_evaluation" or "code" => TaskKind.Code,
        _ => throw new FormatException($"unknown task type '{name}' (expected multiple_choice, schema, language_modeling, generation_task_with_answers or code_evaluation)"),
    };
}
