using Dclm.Data.Documents;
using Dclm.Data.Extraction;

namespace Dclm.Data.Pipeline;

/// <summary>Runs main-content extraction on HTML documents; plain-text documents pass unchanged (an empty one is dropped).</summary>
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
        // Text that arrives extracted (JSONL, e-mail, text/plain) goes on as DCLM would receive it: unchanged.
        return document.Text.Length == 0 ? StepOutcome.Drop("no_main_content") : StepOutcome.Keep;
    }
}
