namespace Dclm.Data.Quality;

/// <summary>DCLM's <c>quality_filter(key, threshold, lower_better)</c> on one page's score.</summary>
public static class QualityThreshold
{
    /// <summary>
    /// Kept when the score is at least the threshold (at most, for lower-is-better scores such as perplexity); a page
    /// without a score is dropped.
    /// </summary>
    public static bool Passes(double? score, double threshold, bool lowerIsBetter = false) =>
        score is { } value && (lowerIsBetter ? value <= threshold : value >= threshold);
}
