namespace Dclm.Eval.Code;

/// <summary>Builds the program HumanEval runs for one completion, and cuts completions at its stop sequences.</summary>
public static class HumanEvalProgram
{
    /// <summary>HumanEval's stop sequences: a completion ends where a new top-level statement begins.</summary>
    public static readonly IReadOnlyList<string> StopSequences = ["\ndef", "\nclass", "\nif", "\nprint", "\n#"];

    /// <summary>prompt + completion, the tests, then <c>check(entry_point)</c>, as human-eval's <c>check_correctness</c> does.</summary>
    public static string Build(string prompt, string completion, string test, string entryPoint) =>
        prompt + completion + "\n\n" + test + "\n\n" + $"check({entryPoint})\n";

    /// <summary>The completion up to the first stop sequence.</summary>
    public static string Truncate(string completion)
    {
        int end = completion.Length;
        foreach (var stop in StopSequences)
        {
            int at = completion.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && at < end) end = at;
        }
        return completion[..end];
    }
}
