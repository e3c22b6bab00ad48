using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Filters;

/// <summary>
/// Gopher's <c>ellipsis_count_filter</c>: at most the given share of non-blank (stripped) lines may end with "...",
/// ". . ." or "…" (DCLM-Baseline: 0.3).
/// </summary>
public sealed class EllipsisLinesFilter(double maximumFraction = 0.3) : IDocumentStep
{
    [ThreadStatic] private static List<(int Start, int Length)>? _lines;

    /// <inheritdoc />
    public string Name => "ellipsis_lines";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        var text = document.Text.AsSpan();
        var lines = _lines ??= new();
        Paragraphs.Split(text, "\n", removeEmpty: true, lines);
        int ending = 0;
        foreach (var (start, length) in lines)
        {
            var line = text.Slice(start, length);
            if (line.EndsWith("...") || line.EndsWith(". . .") || line.EndsWith("\u2026")) ending++;
        }
        return ending > maximumFraction * lines.Count ? StepOutcome.Drop(Name) : StepOutcome.Keep;
    }
}
