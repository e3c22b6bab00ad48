using Dclm.Inference;
using Dclm.Inference.Engine;
using Dclm.Inference.Speculation;
using Dclm.Models;

namespace Dclm.Benchmarks;

/// <summary>
/// <see cref="SpeculationBench"/>'s measurement over the serving engine (what `dclm serve --lookup-ngram` runs): one
/// greedy request at a time to an engine without drafts and to one with prompt-lookup drafts, both on the same loaded
/// model and an exact f32 KV cache, taking turns; decode rate and process CPU per token after the first token.
/// </summary>
public static class EngineSpeculationBench
{
    /// <summary>
    /// <paramref name="repetitions"/> pairs (after one unmeasured pair) of <paramref name="tokens"/> greedy tokens after
    /// <paramref name="prompt"/>; the draft length is capped at what the engine allows (<see cref="SpeculativeDecoding.MostExactDraftTokens"/>).
    /// </summary>
    public static SpeculationResult Run(IDecoderModel model, int[] prompt, int tokens, int ngramSize, int maxDraftTokens, int repetitions,
        IProgress<string> progress, CancellationToken cancellation)
    {
        int draftMax = Math.Min(maxDraftTokens, SpeculativeDecoding.MostExactDraftTokens);
        var options = new EngineOptions { MaxRunningSequences = 1, PrefixCacheEntries = 0, ContextLength = prompt.Length + tokens, KvCacheType = KvCacheType.F32 };
        using var plain = new InferenceEngine(model, null, options);
        using var speculative = new InferenceEngine(model, null, options with { LookupNgram = ngramSize, MaxDraftTokens = draftMax });
        var sampling = SamplingOptions.Greedy with { MaxTokens = tokens, StopAtEndOfSequence = false };
        int prefillSteps = (prompt.Length + options.StepTokenBudget - 1) / options.StepTokenBudget;
        List<double> plainRates = [], speculativeRates = [], plainCpu = [], speculativeCpu = [], ratios = [];
        SpeculationStatistics statistics = new();
        bool identical = true;
        for (int rep = -1; rep < repetitions; rep++)
        {
            cancellation.ThrowIfCancellationRequested();
            (double Rate, double Cpu, List<int> Ids) plainRun = (0, 0, []), speculativeRun = (0, 0, []);
            foreach (bool drafts in rep % 2 == 0 ? new[] { false, true } : new[] { true, false })
            {
                var engine = drafts ? speculative : plain;
                var before = engine.Statistics;
                var run = Decode(engine, prompt, sampling, cancellation).GetAwaiter().GetResult();
                var after = engine.Statistics;
                if (!drafts) { plainRun = run; continue; }
                speculativeRun = run;
                statistics = new SpeculationStatistics
                {
                    Drafted = after.DraftedTokens - before.DraftedTokens, Accepted = after.AcceptedDraftTokens - before.AcceptedDraftTokens,
                    Steps = after.Steps - before.Steps - prefillSteps, Emitted = run.Ids.Count,
                };
            }
            identical &= plainRun.Ids.SequenceEqual(speculativeRun.Ids);
            string label = rep < 0 ? "warm-up" : $"repetition {rep + 1}/{repetitions}";
            progress.Report($"engine speculation {label}: plain {plainRun.Rate:F2} tok/s ({plainRun.Cpu:F1} cpu-ms/token), " +
                $"lookup {speculativeRun.Rate:F2} tok/s ({speculativeRun.Cpu:F1} cpu-ms/token; {statistics})");
            if (rep < 0) continue;
            plainRates.Add(plainRun.Rate);
            speculativeRates.Add(speculativeRun.Rate);
            plainCpu.Add(plainRun.Cpu);
            speculativeCpu.Add(speculativeRun.Cpu);
            if (plainRun.Rate > 0) ratios.Add(speculativeRun.Rate / plainRun.Rate);
        }
        return new SpeculationResult(Measurement.Of(plainRates), Measurement.Of(speculativeRates), Measurement.MedianOf(ratios),
            statistics, identical, ngramSize, draftMax, prompt.Length)
        {
            PlainCpuMillisecondsPerToken = Measurement.MedianOf(plainCpu),
            SpeculativeCpuMillisecondsPerToken = Measurement.MedianOf(speculativeCpu),
        };
    }

    /// <summary>One request; the rate and the CPU per token count the tokens after the first over the time after it.</summary>
    private static async Task<(double Rate, double Cpu, List<int> Ids)> Decode(InferenceEngine engine, int[] prompt, SamplingOptions sampling,
        CancellationToken cancellation)
    {
        var ids = new List<int>();
        CpuClock clock = default;
        await foreach (var update in engine.Submit(engine.CreateRequest(prompt, sampling), cancellation).WithCancellation(cancellation))
        {
            if (update.TokenId < 0) continue;
            if (ids.Count == 0) clock = CpuClock.Start();
            ids.Add(update.TokenId);
        }
        if (ids.Count < 2) return (0, 0, ids);
        var (wall, cpu) = clock.Stop();
        return ((ids.Count - 1) / wall, cpu * 1e3 / (ids.Count - 1), ids);
    }
}
