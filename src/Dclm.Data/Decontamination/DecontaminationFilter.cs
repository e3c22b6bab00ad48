using Dclm.Data.Documents;

namespace Dclm.Data.Decontamination;

/// <summary>
/// Decontamination against evaluation tasks, as DCLM checked its training data against its evaluation sets: a page
/// sharing an n-gram (13 words by default) with any evaluation item is dropped (rule <c>eval_overlap_TASK</c>), or, in
/// report mode, kept and counted by task in the stage's notes.
/// </summary>
public sealed class DecontaminationFilter(EvalNgramIndex index, bool dropMatches) : IDocumentStep
{
    /// <inheritdoc />
    public string Name => "decontaminate";

    /// <summary>The task a page overlaps, or null.</summary>
    public string? Match(string text) => index.FirstMatch(text) is int task and >= 0 ? index.Tasks[task] : null;

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        if (Match(document.Text) is not { } task) return StepOutcome.Keep;
        if (dropMatches) return StepOutcome.Drop("eval_overlap_" + task);
        document.ContaminatedBy = task;
        return StepOutcome.KeepFlagged("eval_overlap_" + task);
    }
}
