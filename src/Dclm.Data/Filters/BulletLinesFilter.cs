using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Filters;

/// <summary>
/// Gopher's <c>bullet_count_filter</c>: at most the given share of non-blank (stripped) lines may start with ●, •,
/// * or - (DCLM-Baseline: 0.9).
/// </summary>
public sealed class BulletLinesFilter(double maximumFraction = 0.9) : IDocumentStep
{
    [ThreadStatic] private static List<(int Start, int Length)>? _lines;

    /// <inheritdoc />
    public string Name => "bullet_lines";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        var text = document.Text.AsSpan();
        var lines = _lines ??= new();
        Paragraphs.Split(text, "\n", removeEmpty: true, lines);
        int bulleted = 0;
        foreach (var (start, _) in lines) if (text[start] is '\u25CF' or '\u2022' or '*' or '-') bulleted++;
        return bulleted > maximumFraction * lines.Count ? StepOutcome.Drop(Name) : StepOutcome.Keep;
    }
}
