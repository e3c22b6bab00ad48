using Dclm.Eval.Tasks;

namespace Dclm.Eval.Code;

/// <summary>A code problem with part of its canonical solution masked: the program is prefix + middle + suffix, then the tests.</summary>
public sealed record InfillProblem(string Id, string Prefix, string Middle, string Suffix, string Test, string EntryPoint);

/// <summary>Turns HumanEval-style problems into infill problems by masking lines of their canonical solutions.</summary>
public static class InfillProblems
{
    /// <summary>
    /// Single line: one problem per non-blank solution line (id "task/L{line}", lines counted from 0 within the solution).
    /// Multi-line: one problem per task with a span of 1 to all of its lines, start and length drawn from <paramref name="seed"/>
    /// (id "task/L{first}-{last}"). The prompt stays in the prefix; a solution without lines gives no problem.
    /// </summary>
    public static IReadOnlyList<InfillProblem> Mask(IReadOnlyList<CodeItem> problems, InfillMode mode, int seed)
    {
        var masked = new List<InfillProblem>();
        for (int p = 0; p < problems.Count; p++)
        {
            var problem = problems[p];
            var lines = Lines(problem.CanonicalSolution);
            var candidates = Enumerable.Range(0, lines.Count).Where(i => lines[i].Trim().Length > 0).ToArray();
            if (candidates.Length == 0) continue;
            if (mode == InfillMode.SingleLine)
            {
                foreach (int line in candidates) masked.Add(Cut(problem, lines, line, line, $"{problem.Id}/L{line}"));
            }
            else
            {
                var random = new Random(unchecked(seed * 1_000_003 + p));
                int first = candidates[random.Next(candidates.Length)];
                var after = candidates.Where(i => i >= first).ToArray();
                int last = after[random.Next(after.Length)];
                masked.Add(Cut(problem, lines, first, last, $"{problem.Id}/L{first}-{last}"));
            }
        }
        return masked;
    }

    /// <summary>A single-line fill ends at its first newline (the line break itself is kept, as the masked line has one).</summary>
    public static string TruncateSingleLine(string fill)
    {
        int newline = fill.IndexOf('\n');
        return newline < 0 ? fill : fill[..(newline + 1)];
    }

    private static InfillProblem Cut(CodeItem problem, IReadOnlyList<string> lines, int first, int last, string id) => new(id,
        problem.Prompt + string.Concat(lines.Take(first)), string.Concat(lines.Skip(first).Take(last - first + 1)), string.Concat(lines.Skip(last + 1)),
        problem.Test, problem.EntryPoint);

    /// <summary>The solution's lines, each with its line break.</summary>
    private static List<string> Lines(string text)
    {
        var lines = new List<string>();
        int start = 0;
        while (start < text.Length)
        {
            int end = text.IndexOf('\n', start);
            end = end < 0 ? text.Length : end + 1;
            lines.Add(text[start..end]);
            start = end;
        }
        return lines;
    }
}
