using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Filters;

/// <summary>
/// Gopher's <c>symbol_ratio_filter</c>: occurrences of "#", "...", ". . ." and "…" (each counted on its own, without
/// overlaps, as <c>str.count</c>) per <c>str.split()</c> word must not exceed the maximum (DCLM-Baseline: 0.1).
/// </summary>
public sealed class SymbolRatioFilter(double maximumRatio = 0.1) : IDocumentStep
{
    private static readonly string[] Symbols = ["#", "...", ". . .", "\u2026"];

    /// <inheritdoc />
    public string Name => "symbol_ratio";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        var text = document.Text;
        long symbols = 0;
        foreach (var symbol in Symbols) symbols += CountOccurrences(text, symbol);
        int words = PythonText.CountWords(text);
        return words == 0 || (double)symbols / words > maximumRatio ? StepOutcome.Drop(Name) : StepOutcome.Keep;
    }

    /// <summary>Non-overlapping occurrences, like Python's <c>str.count</c>.</summary>
    internal static int CountOccurrences(string text, string value)
    {
        int count = 0, index = 0;
        while ((index = text.IndexOf(value, index, StringComparison.Ordinal)) >= 0) { count++; index += value.Length; }
        return count;
    }
}
