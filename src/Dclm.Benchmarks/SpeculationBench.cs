using System.Diagnostics;
using Dclm.Inference;
using Dclm.Inference.Speculation;
using Dclm.Models;

namespace Dclm.Benchmarks;

/// <summary>
/// Speculative decode speed against plain decoding on the same repetitive prompt, greedy, the two taking turns: the
/// decode rate after the first token of each, their ratio, how the drafts fared, and whether the outputs were equal.
/// </summary>
public sealed record SpeculationResult(Measurement Plain, Measurement Speculative, double PairedRatio, SpeculationStatistics Statistics,
    bool Identical, int NgramSize, int MaxDraftTokens, int PromptTokens);

/// <summary>Runs <see cref="SpeculationResult"/>'s measurement with prompt-lookup drafts (<see cref="PromptLookupDraft"/>).</summary>
public static class SpeculationBench
{
    /// <summary>Tokens of the phrase the synthetic prompt repeats.</summary>
    public const int PhraseTokens = 48;

    /// <summary>
    /// A prompt of <paramref name="count"/> tokens that repeats one seeded random phrase of ids below
    /// <paramref name="vocabularySize"/>, as a document quoted again or code being edited repeats itself: what prompt
    /// lookup is for.
    /// </summary>
    public static int[] RepetitivePrompt(int count, int vocabularySize)
    {
        var random = new Random(4321);
        int[] phrase = Enumerable.Range(0, PhraseTokens).Select(_ => random.Next(Math.Min(300, vocabularySize / 2), Math.Min(30000, vocabularySize))).ToArray();
        return Enumerable.Range(0, count).Select(i => phrase[i % PhraseTokens]).ToArray();
    }

    /// <summary>
    /// <paramref name="repetitions"/> pairs of greedy generations of <paramref name="tokens"/> tokens after
    /// <paramref name="prompt"/>, plain and with lookup drafts of n-grams up to <paramref name="ngramSize"/> and at most
    /// <paramref name="maxDraftTokens"/> tokens, in alternating order.
    /// </summary>
    public static SpeculationResult Run(DecoderModel model, int[] prompt, int tokens, int ngramSize, int maxDraftTokens, int repetitions,
        IProgress<string> progress, CancellationToken cancellation)
    {
        var options = SamplingOptions.Greedy with { MaxTokens = tokens, StopAtEndOfSequence = false };
        var plain = new TokenGenerator(model, endOfSequenceId: null);
        var speculative = new TokenGenerator(model, endOfSequenceId: null, speculation: new SpeculativeDecoding(new PromptLookupDraft(ngramSize), maxDraftTokens));
        var plainRates = new List<double>();
        var speculativeRates = new List<double>();
        var ratios = new List<double>();
        SpeculationStatistics? statistics = null;
        bool identical = true;
        // One unmeasured pair first: JIT and caches.
        for (int rep = -1; rep < repetitions; rep++)
        {
            cancellation.ThrowIfCancellationRequested();
            double plainRate = 0, speculativeRate = 0;
            List<int> plainIds = [], speculativeIds = [];
            foreach (bool drafts in rep % 2 == 0 ? new[] { false, true } : new[] { true, false })
            {
                var (rate, ids) = Decode(drafts ? speculative : plain, prompt, options, cancellation);
                if (drafts) (speculativeRate, speculativeIds) = (rate, ids);
                else (plainRate, plainIds) = (rate, ids);
            }
            identical &= plainIds.SequenceEqual(speculativeIds);
            statistics = speculative.Speculation;
            string label = rep < 0 ? "warm-up" : $"repetition {rep + 1}/{repetitions}";
            progress.Report($"speculation {label}: plain {plainRate:F2} tok/s, lookup {speculativeRate:F2} tok/s ({statistics})");
            if (rep < 0) continue;
            plainRates.Add(plainRate);
            speculativeRates.Add(speculativeRate);
            if (plainRate > 0) ratios.Add(speculativeRate / plainRate);
        }
        return new SpeculationResult(Measurement.Of(plainRates), Measurement.Of(speculativeRates), Measurement.MedianOf(ratios),
            statistics ?? new SpeculationStatistics(), identical, ngramSize, maxDraftTokens, prompt.Length);
    }

    /// <summary>Generates greedily; the rate counts the tokens after the first one over the time after it (decode, not prefill).</summary>
    private static (double Rate, List<int> Ids) Decode(TokenGenerator generator, int[] prompt, SamplingOptions options, CancellationToken cancellation)
    {
        var ids = new List<int>();
        var watch = new Stopwatch();
        foreach (int id in generator.Generate(prompt, options, cancellation))
        {
            if (ids.Count == 0) watch.Start();
            ids.Add(id);
        }
        watch.Stop();
        return (ids.Count > 1 ? (ids.Count - 1) / watch.Elapsed.TotalSeconds : 0, ids);
    }
}
