namespace Dclm.Data.Documents;

/// <summary>
/// One per-document rule of the pipeline (a filter drops, a modifier rewrites text). Steps hold no per-document
/// state, so one instance is shared by all worker threads.
/// </summary>
public interface IDocumentStep
{
    /// <summary>Rule name used in pipeline.yaml and in report.json's removed_by.</summary>
    string Name { get; }

    /// <summary>Applies the rule, possibly rewriting <see cref="Document.Text"/>.</summary>
    StepOutcome Apply(Document document);
}
