using System.Text.RegularExpressions;
using Dclm.Data.Documents;

namespace Dclm.Data.Filters;

/// <summary>DCLM's <c>newline_removal_modifier</c>: runs of more than <c>max</c> newlines collapse to <c>max</c>.</summary>
public sealed partial class NewlineNormalizer(int maximumConsecutive) : IDocumentStep
{
    private readonly Regex _runs = new($"\\n{{{maximumConsecutive + 1},}}", RegexOptions.Compiled);
    private readonly string _replacement = new('\n', maximumConsecutive);

    /// <inheritdoc />
    public string Name => "newlines";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        document.Text = _runs.Replace(document.Text, _replacement);
        return document.Text.Length == 0 ? StepOutcome.Drop("empty") : StepOutcome.Keep;
    }
}
