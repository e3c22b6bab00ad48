using Dclm.Training.FineTuning.Data;

namespace Dclm.Training.Alignment;

/// <summary>
/// One preference: the same prompt completed two ways. Each side is the whole sequence (prompt then completion and
/// its end marker) with only the completion's tokens learned, so a side's log-probability is log π(completion | prompt).
/// </summary>
/// <param name="Chosen">Prompt + the preferred completion.</param>
/// <param name="Rejected">Prompt + the other completion.</param>
/// <param name="Line">Line of the data file it came from (1-based).</param>
public sealed record PreferencePair(FineTuningExample Chosen, FineTuningExample Rejected, int Line)
{
    /// <summary>Tokens of the longer side.</summary>
    public int Length => Math.Max(Chosen.Tokens.Length, Rejected.Tokens.Length);
}
