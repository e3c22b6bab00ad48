using System.Text.RegularExpressions;
using Dclm.Data.Documents;

namespace Dclm.Data.Modifiers;

/// <summary>
/// DCLM's <c>newline_removal_modifier(max_consecutive)</c>: runs of more than <c>max</c> newlines collapse to
/// <c>max</c> (DCLM-Baseline: 2). It never drops a page, not even an empty one (DCLM's language step does).
/// </summary>
public sealed class NewlineNormalizer(int maximumConsecutive = 2) : IDocumentStep
{
    private readonly Regex _runs = new($"\\n{{{maximumConsecutive + 1},}}", RegexOptions.Compiled);
    private readonly string _replacement = new('\n', maximumConsecutive);

    /// <inheritdoc />
    public string Name => "newlines";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        if (document.Text.Contains(_replacement + "\n", StringComparison.Ordinal)) document.Text = _runs.Replace(document.Text, _replacement);
        return StepOutcome.Keep;
    }
}
