using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Modifiers;

/// <summary>
/// RefinedWeb's <c>numeric_ratio_line_modifier</c>: removes lines whose share of digits (Python's <c>isdigit</c>: ² and
/// ① count too) exceeds the maximum (DCLM-Baseline: 0.999999, i.e. all-digit lines), then strips the page.
/// </summary>
public sealed class NumericLineModifier(double maximumRatio = 1.0) : IDocumentStep
{
    /// <inheritdoc />
    public string Name => "numeric_lines";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        document.Text = LineEdit.Apply(document.Text, line => line.Length == 0 || (double)PythonText.CountDigits(line) / PythonText.Length(line) <= maximumRatio, strip: true);
        return document.Text.Length == 0 ? StepOutcome.Drop(Name) : StepOutcome.Keep;
    }
}
