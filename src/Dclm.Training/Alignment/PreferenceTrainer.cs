using System.Diagnostics;
using System.Globalization;
using Dclm.Training.Checkpointing;
using Dclm.Training.Distributed;
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
/// Under data parallelism (<paramref name="parallel"/>) the update's pairs are the global batch: every rank draws the
/// same pairs and keeps its rows [r·B/N, (r+1)·B/N) of each micro-batch of B, gradients and statistics are summed in rank
/// order, and rank 0 alone writes metrics (with <c>world_size</c>), plots, checkpoints and the adapter.
/// </summary>
public sealed class PreferenceTrainer(PreferenceRun run, DataParallel? parallel = null)
{
    private readonly DataParallel _parallel = parallel ?? DataParallel.Single;

    /// <summary>Runs until the configured number of updates or until <paramref name="cancellation"/> fires.</summary>
    public TrainingResult Run(IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var o = run.Settings;
        int total = run.TotalSteps, perStep = o.BatchSize * o.GradientAccumulation, local = _parallel.LocalBatch(o.BatchSize);
        bool root = _parallel.IsRoot;
        if (!root) progress = null;
        var state = run.Resumed ?? new TrainerState { Seed = o.Seed, SourceNames = [Path.GetFileName(o.Data)], SourceSamples = [0] };
        using var loop = new TrainingLoop(o.Output, state, total, root, "alignment.png", AlignmentPlot.Write);
        var metrics = loop.Metrics;
        long tokens = state.Tokens;

        string? Save(int step) => !root ? null : run.Checkpoints.Save(run.WriteWeights, run.Optimizer, state with
        {
            Step = step, Samples = run.Order.Samples, SourceSamples = [run.Order.Samples], Tokens = tokens, ElapsedSeconds = loop.ElapsedSeconds,
        });

        if (state.Step == 0 && Evaluate() is { } initial)
        {
            loop.Validated(0, initial.Loss);
            metrics?.Write(new MetricsRecord { Step = 0, ValidationLoss = initial.Loss, ValidationRewardMargin = initial.Margin, ValidationRewardAccuracy = initial.Accuracy, WorldSize = _parallel.Ranks });
            progress?.Report(new TrainingProgress(0, total, 0, double.NaN, 0, 0, 0, initial.Loss, run.Method, TimeSpan.Zero, null, Environment.WorkingSet, Describe(initial, "val ")));
        }
        for (int step = state.Step; step < total; step++)
        {
            if (_parallel.Any(cancellation.IsCancellationRequested)) return loop.Stop(step, Save);
            var stepClock = Stopwatch.StartNew();
            double learningRate = run.Schedule.At(step);
            run.ZeroGradients();
            var sums = new StatisticsSum();
            for (int i = 0; i < perStep; i++)
            {
                // Every rank draws every pair, so the order's cursor (and a checkpoint) does not depend on N.
                int index = run.Order.Next();
                if ((i % o.BatchSize) / local != _parallel.Rank) continue;
                var pair = run.Training[index];
                sums.Add(run.Accumulate(index, 1.0 / perStep), pair.Chosen.Tokens.Length + pair.Rejected.Tokens.Length);
            }
            double norm = _parallel.Update(run.Trainable, run.Optimizer, o.GradientClip, learningRate, run.Pool);
            run.Model.ParametersChanged();
            sums.SumOver(_parallel);
            long stepTokens = sums.Tokens;
            tokens += stepTokens;
            var stats = sums.Mean;
            loop.Trained(stats.Loss);
            int done = step + 1;

            PreferenceStatistics? validation = null;
            if (loop.Validates(done, o.EvalEvery))
            {
                validation = Evaluate();
                if (validation is { } v) loop.Validated(done, v.Loss);
            }
            double tokensPerSecond = stepTokens / Math.Max(1e-9, stepClock.Elapsed.TotalSeconds);
            metrics?.Write(new MetricsRecord
            {
                Step = done, Tokens = tokens, Loss = stats.Loss, LearningRate = learningRate, GradientNorm = norm, TokensPerSecond = tokensPerSecond,
                ChosenReward = stats.ChosenReward, RejectedReward = stats.RejectedReward, RewardMargin = stats.Margin, RewardAccuracy = stats.Accuracy,
                ValidationLoss = validation?.Loss, ValidationRewardMargin = validation?.Margin, ValidationRewardAccuracy = validation?.Accuracy,
                WorldSize = _parallel.Ranks,
            });
            if (validation is not null) loop.Plot();
            if (loop.Checkpoints(done, o.CheckpointEvery)) loop.LastCheckpoint = Save(done);
            progress?.Report(new TrainingProgress(done, total, tokens, stats.Loss, learningRate, norm, tokensPerSecond, validation?.Loss, run.Method, loop.Elapsed,
                loop.Remaining(done), Environment.WorkingSet, Describe(stats, "") + (validation is { } vv ? " " + Describe(vv, "val ") : "")));
        }
        return loop.Finish(Save, run.WriteFinal, _parallel);
    }

    /// <summary>Loss and reward statistics of the held-out pairs under the current policy; null without any. Ranks split the pairs.</summary>
    public PreferenceStatistics? Evaluate()
    {
        if (run.Validation.Count == 0) return null;
        var sums = new StatisticsSum();
        foreach (int i in _parallel.Mine(Enumerable.Range(0, run.Validation.Count)))
            sums.Add(run.Evaluate(i), 0);
        sums.SumOver(_parallel);
        return sums.Mean;
    }

    /// <summary>Accuracy and loss over <paramref name="count"/> pairs scored by <paramref name="score"/>.</summary>
    public static PreferenceStatistics Summarize(int count, Func<int, PreferenceTerms> score)
    {
        var sums = new StatisticsSum();
        for (int i = 0; i < count; i++) sums.Add(score(i), 0);
        return sums.Mean;
    }

    private static string Describe(PreferenceStatistics s, string prefix)
    {
        var c = CultureInfo.InvariantCulture;
        return $"{prefix}margin {s.Margin.ToString("F3", c)} {prefix}acc {s.Accuracy.ToString("F2", c)}";
    }

    /// <summary>Running sums of pair terms (this rank's, until <see cref="SumOver"/>).</summary>
    private sealed class StatisticsSum
    {
        private double _loss, _chosen, _rejected, _wins, _count, _tokens;

        public void Add(PreferenceTerms t, int tokens)
        {
            _loss += t.Loss; _chosen += t.ChosenReward; _rejected += t.RejectedReward;
            if (t.Margin > 0) _wins++;
            _count++;
            _tokens += tokens;
        }

        /// <summary>The sums over every rank, in rank order.</summary>
        public void SumOver(DataParallel parallel)
        {
            Span<double> all = [_loss, _chosen, _rejected, _wins, _count, _tokens];
            parallel.Sum(all);
            (_loss, _chosen, _rejected, _wins, _count, _tokens) = (all[0], all[1], all[2], all[3], all[4], all[5]);
        }

        public long Tokens => (long)_tokens;

        public PreferenceStatistics Mean => new(_loss / _count, _chosen / _count, _rejected / _count, _wins / _count);
    }
}
