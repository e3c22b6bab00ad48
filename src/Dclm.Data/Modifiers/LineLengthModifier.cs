using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Modifiers;

/// <summary>
/// RefinedWeb's <c>line_length_modifier</c>: keeps empty lines and lines with min..max <c>str.split()</c> words
/// (DCLM-Baseline: at least 2). Unlike the other line modifiers it does not strip the page.
/// </summary>
public sealed class LineLengthModifier(int minimumWords = 0, double maximumWords = double.PositiveInfinity) : IDocumentStep
{
    /// <inheritdoc />
    public string Name => "short_lines";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        document.Text = LineEdit.Apply(document.Text, line =>
        {
            if (line.Length == 0) return true;
            int words = PythonText.CountWords(line);
            return words >= minimumWords && words <= maximumWords;
        }, strip: false);
        return document.Text.Length == 0 ? StepOutcome.Drop(Name) : StepOutcome.Keep;
    }
}
