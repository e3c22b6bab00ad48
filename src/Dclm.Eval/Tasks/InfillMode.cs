namespace Dclm.Eval.Tasks;

/// <summary>
/// How a code task becomes a fill-in-the-middle task (HumanEval-infilling style, Bavarian et al. 2022 and Fried et al.
/// 2022): which part of each canonical solution is masked for the model to fill in between the code before and after it.
/// </summary>
public enum InfillMode
{
    /// <summary>Not an infill task: the model completes the prompt.</summary>
    None,
    /// <summary>Every non-blank line of each solution, one problem per line; the fill is cut at its first newline.</summary>
    SingleLine,
    /// <summary>One span of consecutive lines per solution, drawn with the task's seed; the fill is kept whole.</summary>
    MultiLine,
}

/// <summary>Names of <see cref="InfillMode"/> in task files (<c>infill: single_line</c>).</summary>
public static class InfillModes
{
    public static InfillMode Parse(string? name) => name switch
    {
        null or "" or "none" => InfillMode.None,
        "single_line" => InfillMode.SingleLine,
        "multi_line" => InfillMode.MultiLine,
        _ => throw new FormatException($"unknown infill mode '{name}' (expected single_line or multi_line)"),
    };
}
