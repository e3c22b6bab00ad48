using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Modifiers;

/// <summary>
/// RefinedWeb's <c>uppercase_ratio_line_modifier</c>: removes lines whose share of uppercase code points (Python's
/// <c>isupper</c>) exceeds the maximum (DCLM-Baseline: 0.5), then strips the page.
/// </summary>
public sealed class UppercaseLineModifier(double maximumRatio = 0.5) : IDocumentStep
{
    /// <inheritdoc />
    public string Name => "uppercase_lines";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        document.Text = LineEdit.Apply(document.Text, line => line.Length == 0 || (double)PythonText.CountUpper(line) / PythonText.Length(line) <= maximumRatio, strip: true);
        return document.Text.Length == 0 ? StepOutcome.Drop(Name) : StepOutcome.Keep;
    }
}
