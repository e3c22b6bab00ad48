using System.Text.Json.Nodes;
using Dclm.Checkpoints;

namespace Dclm.Benchmarks;

/// <summary>
/// The results of one benchmark run, and the memory-bandwidth bound on decoding. Rates are medians over repetitions;
/// <see cref="BandwidthBytesPerSecond"/> is the best of the probes taken before the repetitions and after each one.
/// </summary>
/// <remarks>
/// The bound takes the best probe, not the median or the probe beside each tg: other work on a shared machine only ever
/// slows a probe, so the best is the closest to what the memory delivers, and a slow probe must not flatter a decode
/// rate set against it (53.9 against 78.7 GB/s in one run put q4_0 decode at 86% of a median bound and 70% of the best).
/// </remarks>
public sealed record BenchReport(string ModelPath, int Threads, EngineResult Ours, EngineResult? Peer,
    double BandwidthBytesPerSecond, long BytesPerToken, WeightResidence Residence)
{
    /// <summary>The processor the run measured.</summary>
    public HostCpu Host { get; init; } = HostCpu.Read();

    /// <summary>Load averages (1, 5, 15 minutes) when the run began and when it ended.</summary>
    public (string? Before, string? After) LoadAverage { get; init; }

    /// <summary>The kernel level our products ran, per weight type of the model, e.g. {"q4_0": "avx512"}.</summary>
    public IReadOnlyDictionary<string, string> Kernels { get; init; } = new Dictionary<string, string>();

    /// <summary>The speculation test (prompt lookup against plain decoding), when it ran.</summary>
    public SpeculationResult? Speculation { get; init; }

    /// <summary>The same measurement over the serving engine (`dclm serve --lookup-ngram`), or null.</summary>
    public SpeculationResult? EngineSpeculation { get; init; }

    /// <summary>Every bandwidth probe of the run in order (before the repetitions, then after each), bytes per second.</summary>
    public IReadOnlyList<double> BandwidthSamples { get; init; } = [];

    /// <summary>The median of <see cref="BandwidthSamples"/>, bytes per second: how much the probes themselves varied.</summary>
    public double BandwidthMedianBytesPerSecond => Measurement.MedianOf(BandwidthSamples);

    /// <summary>Our decode's share of the bandwidth bound: median tg tokens/s × weight bytes per token over the best probe.</summary>
    public double GenerationFractionOfBound => BandwidthBytesPerSecond > 0 ? Ours.GenerationTokensPerSecond.Median * BytesPerToken / BandwidthBytesPerSecond : 0;

    /// <summary>The same share for our fastest tg repetition.</summary>
    public double BestGenerationFractionOfBound => BandwidthBytesPerSecond > 0 ? Ours.GenerationTokensPerSecond.Maximum * BytesPerToken / BandwidthBytesPerSecond : 0;

    /// <summary>Where our layers ran: "cpu" or the device's description; the bandwidth is then the device's (a copy kernel).</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>With a peer: ours / the peer's for pp and tg, the median over repetitions of each back-to-back pair.</summary>
    public (double Prompt, double Generation)? PairedRatios { get; init; }

    /// <summary>Tokens/s if every decode step only streamed the weights at measured bandwidth.</summary>
    public double BandwidthBoundTokensPerSecond => BandwidthBytesPerSecond / BytesPerToken;

    /// <summary>The JSON the issue specifies, plus the bandwidth bound and ± deviations.</summary>
    public JsonObject ToJson()
    {
        static JsonObject Engine(EngineResult r) => new()
        {
            ["pp_tps"] = r.PromptTokensPerSecond.Median,
            ["pp_min"] = r.PromptTokensPerSecond.Minimum,
            ["pp_max"] = r.PromptTokensPerSecond.Maximum,
            ["pp_mean"] = r.PromptTokensPerSecond.Mean,
            ["pp_sd"] = r.PromptTokensPerSecond.StandardDeviation,
            ["tg_tps"] = r.GenerationTokensPerSecond.Median,
            ["tg_min"] = r.GenerationTokensPerSecond.Minimum,
            ["tg_max"] = r.GenerationTokensPerSecond.Maximum,
            ["tg_mean"] = r.GenerationTokensPerSecond.Mean,
            ["tg_sd"] = r.GenerationTokensPerSecond.StandardDeviation,
            ["repetitions"] = Math.Max(r.PromptTokensPerSecond.Repetitions, r.GenerationTokensPerSecond.Repetitions),
            ["rss_mb"] = r.ResidentMegabytes,
            ["pp_cpu_ms_per_token"] = r.PromptCpuMillisecondsPerToken,
            ["tg_cpu_ms_per_token"] = r.GenerationCpuMillisecondsPerToken,
        };
        var json = new JsonObject
        {
            ["model"] = ModelPath,
            ["device"] = Device,
            ["threads"] = Threads,
            ["host"] = new JsonObject
            {
                ["cpu"] = Host.Name,
                ["family"] = Host.Family,
                ["model"] = Host.Model,
                ["stepping"] = Host.Stepping,
                ["logical_cores"] = Host.LogicalCores,
                ["load_average_before"] = LoadAverage.Before,
                ["load_average_after"] = LoadAverage.After,
            },
            ["kernels"] = new JsonObject(Kernels.Select(k => KeyValuePair.Create(k.Key, (JsonNode?)k.Value))),
            ["weights"] = new JsonObject
            {
                ["residence"] = Residence.Residence == Formats.FileResidence.Copied ? "copied" : "mapped",
                ["huge_page_fraction"] = Residence.Bytes > 0 ? Math.Min(1.0, (double)Residence.HugePageBytes / Residence.Bytes) : 0,
                ["load_seconds"] = Residence.LoadTime.TotalSeconds,
                ["reason"] = Residence.Reason,
            },
            ["ours"] = Engine(Ours),
            ["bandwidth_gbps"] = BandwidthBytesPerSecond / 1e9,
            ["bandwidth_gbps_median"] = BandwidthMedianBytesPerSecond / 1e9,
            ["bandwidth_gbps_samples"] = new JsonArray(BandwidthSamples.Select(b => (JsonNode?)(b / 1e9)).ToArray()),
            ["bytes_per_token"] = BytesPerToken,
            ["tg_bound_tps"] = BandwidthBoundTokensPerSecond,
            ["tg_fraction_of_bound"] = GenerationFractionOfBound,
            ["tg_best_fraction_of_bound"] = BestGenerationFractionOfBound,
        };
        if (Speculation is { } s) json["speculation"] = SpeculationJson(s);
        if (EngineSpeculation is { } e) json["engine_speculation"] = SpeculationJson(e);
        if (Peer is not null)
        {
            json["peer"] = Engine(Peer);
            json["ratio"] = new JsonObject
            {
                ["pp"] = PairedRatios?.Prompt ?? 0,
                ["tg"] = PairedRatios?.Generation ?? 0,
                ["pp_of_medians"] = Ratio(Ours.PromptTokensPerSecond.Median, Peer.PromptTokensPerSecond.Median),
                ["tg_of_medians"] = Ratio(Ours.GenerationTokensPerSecond.Median, Peer.GenerationTokensPerSecond.Median),
            };
        }
        return json;
    }

    private static double Ratio(double ours, double peer) => peer > 0 ? ours / peer : 0;

    private static JsonObject SpeculationJson(SpeculationResult s) => new()
    {
        ["lookup_ngram"] = s.NgramSize,
        ["draft_max"] = s.MaxDraftTokens,
        ["prompt_tokens"] = s.PromptTokens,
        ["plain_tg_tps"] = s.Plain.Median,
        ["speculative_tg_tps"] = s.Speculative.Median,
        ["speedup"] = s.PairedRatio,
        ["plain_tg_cpu_ms_per_token"] = s.PlainCpuMillisecondsPerToken,
        ["speculative_tg_cpu_ms_per_token"] = s.SpeculativeCpuMillisecondsPerToken,
        ["acceptance_rate"] = s.Statistics.AcceptanceRate,
        ["tokens_per_step"] = s.Statistics.TokensPerStep,
        ["identical_output"] = s.Identical,
    };
}
