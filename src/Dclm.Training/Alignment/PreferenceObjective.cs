using Dclm.Training.FineTuning.Data;

namespace Dclm.Training.Alignment;

/// <summary>
/// A preference loss with its settings, applied to pairs through a <see cref="SequenceScorer"/>: the policy's
/// log-probabilities of both sides, the loss terms against the reference's cached ones, and the backward pass.
/// </summary>
/// <param name="Beta">β.</param>
/// <param name="Kind">Sigmoid (DPO) or IPO.</param>
/// <param name="LabelSmoothing">Conservative DPO's ε.</param>
public sealed record PreferenceObjective(double Beta, PreferenceLossKind Kind = PreferenceLossKind.Sigmoid, double LabelSmoothing = 0)
{
    /// <summary>
    /// One pair's terms from the policy's log-probabilities, then ∂loss/∂log π(side)·∇ log π(side) of each side, times
    /// <paramref name="weight"/>, added to the model's gradients.
    /// </summary>
    public PreferenceTerms Accumulate(SequenceScorer scorer, PreferencePair pair, ReferenceScores reference, double weight)
    {
        var terms = Score(scorer, pair, reference, out int chosenTokens, out int rejectedTokens);
        // IPO differentiates per-token means: ∂/∂(sum) = ∂/∂(mean) / N.
        bool mean = Kind == PreferenceLossKind.Ipo;
        scorer.Backward(pair.Chosen, weight * terms.ChosenGradient / (mean ? chosenTokens : 1));
        scorer.Backward(pair.Rejected, weight * terms.RejectedGradient / (mean ? rejectedTokens : 1));
        return terms;
    }

    /// <summary>One pair's terms under the policy as it is; no gradients.</summary>
    public PreferenceTerms Evaluate(SequenceScorer scorer, PreferencePair pair, ReferenceScores reference) => Score(scorer, pair, reference, out _, out _);

    /// <summary>The reference's scores of <paramref name="pair"/> (call with the adapters switched off).</summary>
    public static ReferenceScores Reference(SequenceScorer scorer, PreferencePair pair)
    {
        var (chosen, chosenTokens) = scorer.Score(pair.Chosen);
        var (rejected, rejectedTokens) = scorer.Score(pair.Rejected);
        return new ReferenceScores(chosen, rejected, chosenTokens, rejectedTokens);
    }

    /// <summary>The loss terms of the four summed log-probabilities (IPO's on per-token means).</summary>
    public PreferenceTerms Terms(double chosen, int chosenTokens, double rejected, int rejectedTokens, ReferenceScores reference)
    {
        if (Kind == PreferenceLossKind.Ipo)
            return PreferenceLoss.Compute(chosen / chosenTokens, rejected / rejectedTokens, reference.Chosen / reference.ChosenTokens,
                reference.Rejected / reference.RejectedTokens, Beta, Kind);
        return PreferenceLoss.Compute(chosen, rejected, reference.Chosen, reference.Rejected, Beta, Kind, LabelSmoothing);
    }

    private PreferenceTerms Score(SequenceScorer scorer, PreferencePair pair, ReferenceScores reference, out int chosenTokens, out int rejectedTokens)
    {
        double chosen, rejected;
        (chosen, chosenTokens) = scorer.Score(pair.Chosen);
        (rejected, rejectedTokens) = scorer.Score(pair.Rejected);
        return Terms(chosen, chosenTokens, rejected, rejectedTokens, reference);
    }
}
