using System.Text.Json.Nodes;
using Dclm.Checkpoints;

namespace Dclm.Benchmarks;

/// <summary>The results of one benchmark run, and the memory-bandwidth bound on decoding.</summary>
public sealed record BenchReport(string ModelPath, int Threads, EngineResult Ours, EngineResult? Peer,
    double BandwidthBytesPerSecond, long BytesPerToken, WeightResidence Residence)
{
    /// <summary>Tokens/s if every decode step only streamed the weights at measured bandwidth.</summary>
    public double BandwidthBoundTokensPerSecond => BandwidthBytesPerSecond / BytesPerToken;

    /// <summary>The JSON the issue specifies, plus the bandwidth bound and ± deviations.</summary>
    public JsonObject ToJson()
    {
        static JsonObject Engine(EngineResult r) => new()
        {
            ["pp_tps"] = r.PromptTokensPerSecond.Mean,
            ["pp_sd"] = r.PromptTokensPerSecond.StandardDeviation,
            ["tg_tps"] = r.GenerationTokensPerSecond.Mean,
            ["tg_sd"] = r.GenerationTokensPerSecond.StandardDeviation,
            ["rss_mb"] = r.ResidentMegabytes,
            ["pp_cpu_ms_per_token"] = r.PromptCpuMillisecondsPerToken,
            ["tg_cpu_ms_per_token"] = r.GenerationCpuMillisecondsPerToken,
        };
        var json = new JsonObject
        {
            ["model"] = ModelPath,
            ["threads"] = Threads,
            ["weights"] = new JsonObject
            {
                ["residence"] = Residence.Residence == Formats.FileResidence.Copied ? "copied" : "mapped",
                ["huge_page_fraction"] = Residence.Bytes > 0 ? Math.Min(1.0, (double)Residence.HugePageBytes / Residence.Bytes) : 0,
                ["load_seconds"] = Residence.LoadTime.TotalSeconds,
                ["reason"] = Residence.Reason,
            },
            ["ours"] = Engine(Ours),
            ["bandwidth_gbps"] = BandwidthBytesPerSecond / 1e9,
            ["bytes_per_token"] = BytesPerToken,
            ["tg_bound_tps"] = BandwidthBoundTokensPerSecond,
            ["tg_fraction_of_bound"] = Ours.GenerationTokensPerSecond.Mean / BandwidthBoundTokensPerSecond,
        };
        if (Peer is not null)
        {
            json["peer"] = Engine(Peer);
            json["ratio"] = new JsonObject
            {
                ["pp"] = Ratio(Ours.PromptTokensPerSecond.Mean, Peer.PromptTokensPerSecond.Mean),
                ["tg"] = Ratio(Ours.GenerationTokensPerSecond.Mean, Peer.GenerationTokensPerSecond.Mean),
            };
        }
        return json;
    }

    private static double Ratio(double ours, double peer) => peer > 0 ? ours / peer : 0;
}
