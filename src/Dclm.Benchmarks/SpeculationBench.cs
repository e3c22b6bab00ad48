using Dclm.Inference;
using Dclm.Inference.Speculation;
using Dclm.Models;

namespace Dclm.Benchmarks;

/// <summary>
/// Speculative decode speed against plain decoding on the same repetitive prompt, greedy, the two taking turns: the
/// decode rate after the first token of each, their ratio, how the drafts fared, and whether the outputs were equal.
/// </summary>
public sealed record SpeculationResult(Measurement Plain, Measurement Speculative, double PairedRatio, SpeculationStatistics Statistics,
    bool Identical, int NgramSize, int MaxDraftTokens, int PromptTokens)
{
    /// <summary>Process CPU per decoded token after the first, plain decoding (median): disturbed far less than wall time on a shared machine.</summary>
    public double PlainCpuMillisecondsPerToken { get; init; }
    /// <summary>The same with prompt lookup.</summary>
    public double SpeculativeCpuMillisecondsPerToken { get; init; }
}

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
        var plainCpu = new List<double>();
        var speculativeCpu = new List<double>();
        var ratios = new List<double>();
        SpeculationStatistics? statistics = null;
        bool identical = true;
        // One unmeasured pair first: JIT and caches.
        for (int rep = -1; rep < repetitions; rep++)
        {
            cancellation.ThrowIfCancellationRequested();
            double plainRate = 0, speculativeRate = 0, plainMilliseconds = 0, speculativeMilliseconds = 0;
            List<int> plainIds = [], speculativeIds = [];
            foreach (bool drafts in rep % 2 == 0 ? new[] { false, true } : new[] { true, false })
            {
                var (rate, cpu, ids) = Decode(drafts ? speculative : plain, prompt, options, cancellation);
                if (drafts) (speculativeRate, speculativeMilliseconds, speculativeIds) = (rate, cpu, ids);
                else (plainRate, plainMilliseconds, plainIds) = (rate, cpu, ids);
            }
            identical &= plainIds.SequenceEqual(speculativeIds);
            statistics = speculative.Speculation;
            string label = rep < 0 ? "warm-up" : $"repetition {rep + 1}/{repetitions}";
            progress.Report($"speculation {label}: plain {plainRate:F2} tok/s ({plainMilliseconds:F1} cpu-ms/token), " +
                $"lookup {speculativeRate:F2} tok/s ({speculativeMilliseconds:F1} cpu-ms/token; {statistics})");
            if (rep < 0) continue;
            plainRates.Add(plainRate);
            speculativeRates.Add(speculativeRate);
            plainCpu.Add(plainMilliseconds);
            speculativeCpu.Add(speculativeMilliseconds);
            if (plainRate > 0) ratios.Add(speculativeRate / plainRate);
        }
        return new SpeculationResult(Measurement.Of(plainRates), Measurement.Of(speculativeRates), Measurement.MedianOf(ratios),
            statistics ?? new SpeculationStatistics(), identical, ngramSize, maxDraftTokens, prompt.Length)
        {
            PlainCpuMillisecondsPerToken = Measurement.MedianOf(plainCpu),
            SpeculativeCpuMillisecondsPerToken = Measurement.MedianOf(speculativeCpu),
        };
    }

    /// <summary>
    /// Generates greedily; the rate and the CPU per token count the tokens after the first one over the time after it
    /// (decode, not prefill).
    /// </summary>
    private static (double Rate, double CpuMilliseconds, List<int> Ids) Decode(TokenGenerator generator, int[] prompt, SamplingOptions options, CancellationToken cancellation)
    {
        var ids = new List<int>();
        CpuClock clock = default;
        foreach (int id in generator.Generate(prompt, options, cancellation))
        {
            if (ids.Count == 0) clock = CpuClock.Start();
            ids.Add(id);
        }
        if (ids.Count < 2) return (0, 0, ids);
        var (wall, cpu) = clock.Stop();
        return ((ids.Count - 1) / wall, cpu * 1e3 / (ids.Count - 1), ids);
    }
}
