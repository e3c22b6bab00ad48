using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Filters;

/// <summary>Gopher <c>ellipsis_count_filter</c>: at most the given fraction of non-empty lines may end with an ellipsis.</summary>
public sealed class EllipsisLinesFilter(double maximumFraction) : IDocumentStep
{
    private static readonly string[] Ellipses = ["...", ". . .", "\u2026"];

    /// <inheritdoc />
    public string Name => "ellipsis_lines";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        var lines = TextSegments.SplitNonEmpty(document.Text, "\n");
        int ending = lines.Count(line => Ellipses.Any(e => line.EndsWith(e, StringComparison.Ordinal)));
        return ending > maximumFraction * lines.Count ? StepOutcome.Drop(Name) : StepOutcome.Keep;
    }
}
