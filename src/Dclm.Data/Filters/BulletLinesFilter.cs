using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Filters;

/// <summary>Gopher <c>bullet_count_filter</c>: at most the given fraction of non-empty lines may start with a bullet.</summary>
public sealed class BulletLinesFilter(double maximumFraction) : IDocumentStep
{
    private static readonly string[] Bullets = ["\u25CF", "\u2022", "*", "-"];

    /// <inheritdoc />
    public string Name => "bullet_lines";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        var lines = TextSegments.SplitNonEmpty(document.Text, "\n");
        int bulleted = lines.Count(line => Bullets.Any(b => line.StartsWith(b, StringComparison.Ordinal)));
        return bulleted > maximumFraction * lines.Count ? StepOutcome.Drop(Name) : StepOutcome.Keep;
    }
}
