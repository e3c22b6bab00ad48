using System.Diagnostics;
using System.Globalization;
using Dclm.Training.Checkpointing;
using Dclm.Training.Optimization;
using Dclm.Training.Reporting;

namespace Dclm.Training.Alignment;

/// <summary>Mean loss and implicit-reward statistics over a set of pairs.</summary>
/// <param name="Loss">Mean preference loss.</param>
/// <param name="ChosenReward">Mean β·(log π − log π_ref) of the chosen completions.</param>
/// <param name="RejectedReward">The same for the rejected ones.</param>
/// <param name="Accuracy">Fraction of pairs whose chosen reward is the higher.</param>
public readonly record struct PreferenceStatistics(double Loss, double ChosenReward, double RejectedReward, double Accuracy)
{
    /// <summary>Mean reward margin.</summary>
    public double Margin => ChosenReward - RejectedReward;
}

/// <summary>
/// The loop of every objective trained on preference pairs (DPO and its variants, a reward model): each update
/// accumulates the gradients of its pairs through the run's objective, clips and steps AdamW under the run's schedule;
/// validates, logs metrics.jsonl, plots and checkpoints on the fine-tuning intervals. Cancellation finishes the
/// update, saves a checkpoint and returns.
/// </summary>
public sealed class PreferenceTrainer(PreferenceRun run)
{
    /// <summary>Runs until the configured number of updates or until <paramref name="cancellation"/> fires.</summary>
    public TrainingResult Run(IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var o = run.Settings;
        int total = run.TotalSteps, perStep = o.BatchSize * o.GradientAccumulation;
        var state = run.Resumed ?? new TrainerState { Seed = o.Seed, SourceNames = [Path.GetFileName(o.Data)], SourceSamples = [0] };
        Directory.CreateDirectory(o.Output);
        using var metrics = new MetricsLog(Path.Combine(o.Output, "metrics.jsonl"), state.Step);
        string plotPath = Path.Combine(o.Output, "alignment.png");
        var losses = new List<double>();
        var validations = new List<(int, double)>();
        string? lastCheckpoint = null;
        double? validationLoss = null;
        var clock = Stopwatch.StartNew();
        double elapsedBefore = state.ElapsedSeconds;
        long tokens = state.Tokens;
        int startStep = state.Step;

        string Save(int step) => run.Checkpoints.Save(run.WriteWeights, run.Optimizer, state with
        {
            Step = step, Samples = run.Order.Samples, SourceSamples = [run.Order.Samples], Tokens = tokens,
            ElapsedSeconds = elapsedBefore + clock.Elapsed.TotalSeconds,
        });

        if (state.Step == 0 && Evaluate() is { } initial)
        {
            validations.Add((0, initial.Loss));
            metrics.Write(new MetricsRecord { Step = 0, ValidationLoss = initial.Loss, ValidationRewardMargin = initial.Margin, ValidationRewardAccuracy = initial.Accuracy });
            progress?.Report(new TrainingProgress(0, total, 0, double.NaN, 0, 0, 0, initial.Loss, run.Method, TimeSpan.Zero, null, Environment.WorkingSet, Describe(initial, "val ")));
        }
        for (int step = state.Step; step < total; step++)
        {
            if (cancellation.IsCancellationRequested)
            {
                lastCheckpoint = Save(step);
                AlignmentPlot.Write(plotPath, metrics.Records);
                return new TrainingResult(step, true, null, lastCheckpoint, validationLoss, losses, validations);
            }
            var stepClock = Stopwatch.StartNew();
            double learningRate = run.Schedule.At(step);
            run.ZeroGradients();
            var sums = new StatisticsSum();
            long stepTokens = 0;
            for (int i = 0; i < perStep; i++)
            {
                int index = run.Order.Next();
                var pair = run.Training[index];
                sums.Add(run.Accumulate(index, 1.0 / perStep));
                stepTokens += pair.Chosen.Tokens.Length + pair.Rejected.Tokens.Length;
            }
            double norm = GradientClipper.Clip(run.Trainable, o.GradientClip);
            run.Optimizer.Step(learningRate, run.Pool);
            run.Model.ParametersChanged();
            tokens += stepTokens;
            var stats = sums.Mean;
            losses.Add(stats.Loss);
            int done = step + 1;

            PreferenceStatistics? validation = null;
            if ((o.EvalEvery > 0 && done % o.EvalEvery == 0) || done == total)
            {
                validation = Evaluate();
                if (validation is { } v) { validationLoss = v.Loss; validations.Add((done, v.Loss)); }
            }
            metrics.Write(new MetricsRecord
            {
                Step = done, Tokens = tokens, Loss = stats.Loss, LearningRate = learningRate, GradientNorm = norm,
                TokensPerSecond = stepTokens / Math.Max(1e-9, stepClock.Elapsed.TotalSeconds),
                ChosenReward = stats.ChosenReward, RejectedReward = stats.RejectedReward, RewardMargin = stats.Margin, RewardAccuracy = stats.Accuracy,
                ValidationLoss = validation?.Loss, ValidationRewardMargin = validation?.Margin, ValidationRewardAccuracy = validation?.Accuracy,
            });
            if (validation is not null) AlignmentPlot.Write(plotPath, metrics.Records);
            if (o.CheckpointEvery > 0 && done % o.CheckpointEvery == 0 && done < total) lastCheckpoint = Save(done);
            double average = clock.Elapsed.TotalSeconds / (done - startStep);
            progress?.Report(new TrainingProgress(done, total, tokens, stats.Loss, learningRate, norm, stepTokens / Math.Max(1e-9, stepClock.Elapsed.TotalSeconds),
                validation?.Loss, run.Method, TimeSpan.FromSeconds(elapsedBefore + clock.Elapsed.TotalSeconds), TimeSpan.FromSeconds(average * (total - done)),
                Environment.WorkingSet, Describe(stats, "") + (validation is { } vv ? " " + Describe(vv, "val ") : "")));
        }
        lastCheckpoint = Save(total);
        AlignmentPlot.Write(plotPath, metrics.Records);
        return new TrainingResult(total, false, run.WriteFinal(), lastCheckpoint, validationLoss, losses, validations);
    }

    /// <summary>Loss and reward statistics of the held-out pairs under the current policy; null without any.</summary>
    public PreferenceStatistics? Evaluate()
    {
        if (run.Validation.Count == 0) return null;
        var sums = new StatisticsSum();
        for (int i = 0; i < run.Validation.Count; i++)
        {
            sums.Add(run.Evaluate(i));
        }
        return sums.Mean;
    }

    /// <summary>Accuracy and loss over <paramref name="count"/> pairs scored by <paramref name="score"/>.</summary>
    public static PreferenceStatistics Summarize(int count, Func<int, PreferenceTerms> score)
    {
        var sums = new StatisticsSum();
        for (int i = 0; i < count; i++) sums.Add(score(i));
        return sums.Mean;
    }

    private static string Describe(PreferenceStatistics s, string prefix)
    {
        var c = CultureInfo.InvariantCulture;
        return $"{prefix}margin {s.Margin.ToString("F3", c)} {prefix}acc {s.Accuracy.ToString("F2", c)}";
    }

    /// <summary>Running sums of pair terms.</summary>
    private sealed class StatisticsSum
    {
        private double _loss, _chosen, _rejected;
        private int _wins, _count;

        public void Add(PreferenceTerms t)
        {
            _loss += t.Loss; _chosen += t.ChosenReward; _rejected += t.RejectedReward;
            if (t.Margin > 0) _wins++;
            _count++;
        }

        public PreferenceStatistics Mean => new(_loss / _count, _chosen / _count, _rejected / _count, (double)_wins / _count);
    }
}
