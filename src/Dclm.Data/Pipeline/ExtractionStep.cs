using Dclm.Data.Documents;
using Dclm.Data.Extraction;

namespace Dclm.Data.Pipeline;

/// <summary>Runs main-content extraction on HTML documents; plain-text documents pass unchanged.</summary>
public sealed class ExtractionStep(double maximumLinkDensity) : IDocumentStep
{
    [ThreadStatic] private static HtmlTextExtractor? _extractor;

    /// <inheritdoc />
    public string Name => "extract";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        if (document.IsHtml)
        {
            _extractor ??= new HtmlTextExtractor { MaximumLinkDensity = maximumLinkDensity };
            document.Text = _extractor.Extract(document.Text);
            document.IsHtml = false;
        }
        else document.Text = document.Text.Replace("\r\n", "\n").Trim();
        return document.Text.Length == 0 ? StepOutcome.Drop("no_main_content") : StepOutcome.Keep;
    }
}
