using System.Globalization;
using System.Text;
using System.Text.Json;
using Dclm.Training.Data;

namespace Dclm.Training.Reporting;

/// <summary>Held-out loss of one domain (a data source's held-out windows) at one moment of a run.</summary>
/// <param name="Domain">The source name; "replay" is the earlier domain of a continual run.</param>
/// <param name="Old">Whether this is the earlier domain (the replay data) rather than the one being learned.</param>
/// <param name="Loss">Mean cross-entropy per target token (nats).</param>
/// <param name="Tokens">Target tokens measured.</param>
public sealed record DomainLoss(string Domain, bool Old, double Loss, long Tokens)
{
    /// <summary>exp(<see cref="Loss"/>).</summary>
    public double Perplexity => Math.Exp(Loss);
}

/// <summary>
/// The forgetting report of a continual-pretraining run (one started with init_from): the perplexity of every held-out
/// domain before the first update and after the last, written to OUTPUT/forgetting.json. The old domain is the replay
/// data's held-out sample (measured even at replay_fraction 0), the new ones the other sources'. Catastrophic
/// forgetting shows as the old domain's perplexity rising while the new one's falls.
/// </summary>
public sealed record ForgettingReport
{
    /// <summary>The file name under OUTPUT.</summary>
    public const string FileName = "forgetting.json";

    /// <summary>Where the weights came from.</summary>
    public string? InitFrom { get; init; }
    /// <summary>Share of samples drawn from the earlier domain.</summary>
    public double ReplayFraction { get; init; }
    /// <summary>Per domain, before the first update.</summary>
    public IReadOnlyList<DomainLoss> Before { get; init; } = [];
    /// <summary>Per domain, after the last update; empty until the run finishes.</summary>
    public IReadOnlyList<DomainLoss> After { get; init; } = [];

    /// <summary>
    /// Measures the "before" side and writes it, or, when the run resumes and OUTPUT/forgetting.json already holds it,
    /// reads it back (the weights have moved since).
    /// </summary>
    public static ForgettingReport Begin(TrainingRun run)
    {
        string path = Path.Combine(run.Options.Output, FileName);
        if (run.Resumed is not null && File.Exists(path)) return Read(path);
        var report = new ForgettingReport { InitFrom = run.Options.InitFrom, ReplayFraction = run.Options.ReplayFraction, Before = Measure(run) };
        report.Write(path);
        return report;
    }

    /// <summary>Measures the "after" side, writes the whole report and returns it.</summary>
    public ForgettingReport Complete(TrainingRun run)
    {
        var report = this with { After = Measure(run) };
        report.Write(Path.Combine(run.Options.Output, FileName));
        return report;
    }

    /// <summary>The held-out loss of every validation set of <paramref name="run"/>, under its eval_batches limit.</summary>
    public static IReadOnlyList<DomainLoss> Measure(TrainingRun run)
    {
        var losses = new List<DomainLoss>();
        foreach (var set in run.Validation)
        {
            double sum = 0;
            long tokens = 0;
            foreach (var batch in run.ValidationBatches(set))
            {
                var loss = batch.Evaluate(run.Model);
                sum += loss.CrossEntropy * loss.Tokens;
                tokens += loss.Tokens;
            }
            if (tokens > 0) losses.Add(new DomainLoss(set.Source, set.Source == ReplayMix.SourceName, sum / tokens, tokens));
        }
        return losses;
    }

    /// <summary>The change of <paramref name="domain"/>'s perplexity from before to after (after/before), or null when either side lacks it.</summary>
    public double? PerplexityRatio(string domain) =>
        Before.FirstOrDefault(d => d.Domain == domain) is { } b && After.FirstOrDefault(d => d.Domain == domain) is { } a ? a.Perplexity / b.Perplexity : null;

    /// <summary>A plain-text table: domain, old/new, perplexity before and after, ratio.</summary>
    public string Format()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"forgetting (held-out perplexity; replay fraction {ReplayFraction:0.###}):");
        text.AppendLine(CultureInfo.InvariantCulture, $"  {"domain",-16} {"",-4} {"before",10} {"after",10} {"after/before",13}");
        foreach (var before in Before)
        {
            var after = After.FirstOrDefault(d => d.Domain == before.Domain);
            string afterText = after is null ? "-" : after.Perplexity.ToString("F2", CultureInfo.InvariantCulture);
            string ratio = PerplexityRatio(before.Domain) is double r ? r.ToString("F3", CultureInfo.InvariantCulture) : "-";
            text.AppendLine(CultureInfo.InvariantCulture, $"  {before.Domain,-16} {(before.Old ? "old" : "new"),-4} {before.Perplexity,10:F2} {afterText,10} {ratio,13}");
        }
        return text.ToString().TrimEnd();
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private void Write(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, JsonSerializer.Serialize(this, JsonOptions));
    }

    /// <summary>Reads a report written by a run.</summary>
    public static ForgettingReport Read(string path)
    {
        try { return JsonSerializer.Deserialize<ForgettingReport>(File.ReadAllText(path), JsonOptions) ?? throw new InvalidDataException($"{path}: empty"); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a forgetting report ({e.Message})"); }
    }
}
