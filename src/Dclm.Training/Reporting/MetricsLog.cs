using System.Globalization;
using System.Text.Json;

namespace Dclm.Training.Reporting;

/// <summary>One line of metrics.jsonl.</summary>
public sealed record MetricsRecord
{
    /// <summary>Optimizer updates completed.</summary>
    public int Step { get; init; }
    /// <summary>Training tokens consumed.</summary>
    public long Tokens { get; init; }
    /// <summary>Mean training cross-entropy of this update (nats).</summary>
    public double? Loss { get; init; }
    /// <summary>Mean z-loss term of this update.</summary>
    public double? ZLoss { get; init; }
    /// <summary>Learning rate of this update.</summary>
    public double? LearningRate { get; init; }
    /// <summary>Gradient norm before clipping.</summary>
    public double? GradientNorm { get; init; }
    /// <summary>Training throughput over the last update.</summary>
    public double? TokensPerSecond { get; init; }
    /// <summary>Validation cross-entropy, on evaluation steps.</summary>
    public double? ValidationLoss { get; init; }
    /// <summary>exp(validation loss).</summary>
    public double? ValidationPerplexity { get; init; }
    /// <summary>Preference runs: mean implicit reward β·(log π − log π_ref) of the chosen completions of this update.</summary>
    public double? ChosenReward { get; init; }
    /// <summary>Preference runs: the same for the rejected completions.</summary>
    public double? RejectedReward { get; init; }
    /// <summary>Preference runs: mean chosen − rejected reward (the implicit reward margin) of this update.</summary>
    public double? RewardMargin { get; init; }
    /// <summary>Preference runs: fraction of this update's pairs whose chosen completion scores higher.</summary>
    public double? RewardAccuracy { get; init; }
    /// <summary>Preference runs: the held-out pairs' mean reward margin, on evaluation steps.</summary>
    public double? ValidationRewardMargin { get; init; }
    /// <summary>Preference runs: the held-out pairs' accuracy (win rate of the chosen side), on evaluation steps.</summary>
    public double? ValidationRewardAccuracy { get; init; }
    /// <summary>Mixing stage the update drew from.</summary>
    public string? Stage { get; init; }
    /// <summary>Mean reward of the update's sampled completions (policy-gradient runs).</summary>
    public double? Reward { get; init; }
    /// <summary>Mean Σ_t (log π_old − log π_ref) over the update's completions: the sampled KL to the reference.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("kl")]
    public double? KullbackLeibler { get; init; }
    /// <summary>Mean clipped value loss per token (PPO).</summary>
    public double? ValueLoss { get; init; }
    /// <summary>Fraction of tokens whose policy ratio was clipped.</summary>
    public double? ClipFraction { get; init; }
    /// <summary>Mean completion length in tokens.</summary>
    public double? CompletionLength { get; init; }
    /// <summary>Mean reward of greedy completions of the held-out prompts.</summary>
    public double? ValidationReward { get; init; }
    /// <summary>Mean KL to the reference of the greedy held-out completions.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("validation_kl")]
    public double? ValidationKullbackLeibler { get; init; }
    /// <summary>Processes the update ran on (data parallelism: the global batch was split among them).</summary>
    public int? WorldSize { get; init; }
}

/// <summary>
/// Appends <see cref="MetricsRecord"/>s to metrics.jsonl, one flushed line each. On resume, lines after the
/// resumed step are dropped so the file reads as one uninterrupted run.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };
    private readonly StreamWriter _writer;

    public MetricsLog(string path, int resumedStep)
    {
        Path = path;
        var kept = new List<string>();
        if (File.Exists(path))
            foreach (var line in File.ReadLines(path))
                if (TryRead(line) is { } r && r.Step <= resumedStep) kept.Add(line);
        Records.AddRange(kept.Select(TryRead).OfType<MetricsRecord>());
        File.WriteAllLines(path, kept);
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
    }

    /// <summary>The file.</summary>
    public string Path { get; }
    /// <summary>Every record so far, the kept ones from before a resume included.</summary>
    public List<MetricsRecord> Records { get; } = [];

    /// <summary>Appends one record.</summary>
    public void Write(MetricsRecord record)
    {
        Records.Add(record);
        _writer.WriteLine(JsonSerializer.Serialize(record, Options));
    }

    /// <summary>Parses a metrics line, or null when it is not one.</summary>
    public static MetricsRecord? TryRead(string line)
    {
        try { return JsonSerializer.Deserialize<MetricsRecord>(line, Options); }
        catch (JsonException) { return null; }
    }

    public void Dispose() => _writer.Dispose();
}
