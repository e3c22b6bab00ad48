namespace Dclm.Data.Documents;

/// <summary>What a pipeline step decided about one document: keep it (possibly with new text) or drop it for a named rule.</summary>
public readonly record struct StepOutcome(string? DropRule)
{
    /// <summary>A rule that kept the document but wants it counted (report-only checks such as decontamination's).</summary>
    public string? FlagRule { get; init; }

    /// <summary>The document goes on, counted under <paramref name="rule"/>.</summary>
    public static StepOutcome KeepFlagged(string rule) => new(null) { FlagRule = rule };

    /// <summary>The document goes on to the next step.</summary>
    public static StepOutcome Keep => new(null);

    /// <summary>The document is removed; <paramref name="rule"/> names the rule for the report.</summary>
    public static StepOutcome Drop(string rule) => new(rule);

    /// <summary>True when the document survives this step.</summary>
    public bool IsKept => DropRule is null;
}
