using System.Diagnostics;
using Dclm.Tensors;
using Dclm.Training.Checkpointing;
using Dclm.Training.Optimization;
using Dclm.Training.Reporting;

namespace Dclm.Training;

/// <summary>What the trainer reports after each update.</summary>
public sealed record TrainingProgress(int Step, int TotalSteps, long Tokens, double Loss, double LearningRate, double GradientNorm,
    double TokensPerSecond, double? ValidationLoss, string Stage, TimeSpan Elapsed, TimeSpan? Remaining);

/// <summary>How a run ended.</summary>
/// <param name="Steps">Updates completed.</param>
/// <param name="Interrupted">Stopped early by cancellation (a checkpoint was saved).</param>
/// <param name="FinalModel">OUTPUT/final, or null when interrupted.</param>
/// <param name="LastCheckpoint">The newest checkpoint written.</param>
/// <param name="ValidationLoss">The last validation loss, if any was measured.</param>
/// <param name="Losses">Training loss of every update this call ran.</param>
public sealed record TrainingResult(int Steps, bool Interrupted, string? FinalModel, string? LastCheckpoint, double? ValidationLoss, IReadOnlyList<double> Losses);

/// <summary>
/// The training loop: for each update, accumulate gradients over micro-batches, clip, step AdamW under
/// the warmup-cosine schedule; validate, log metrics, plot and checkpoint on their intervals. Cancellation
/// finishes the current update, saves a checkpoint and returns.
/// </summary>
public sealed class Trainer(TrainingRun run)
{
    /// <summary>Runs until the configured number of updates or until <paramref name="cancellation"/> fires.</summary>
    public TrainingResult Run(IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var o = run.Options;
        var model = run.Model;
        int total = o.TotalSteps, sequence = o.SequenceLength, batch = o.BatchSize;
        var schedule = new LearningRateSchedule(o.LearningRate, o.MinLearningRate, o.Warmup, total);
        var state = run.Resumed ?? new TrainerState { Seed = o.Seed, SourceNames = run.SourceNames, SourceSamples = new long[run.SourceNames.Length] };
        Directory.CreateDirectory(o.Output);
        using var metrics = new MetricsLog(Path.Combine(o.Output, "metrics.jsonl"), state.Step);
        string plotPath = Path.Combine(o.Output, "loss.png");
        var windows = new int[batch * (sequence + 1)];
        var inputs = new int[batch * sequence];
        var targets = new int[batch * sequence];
        var losses = new List<double>();
        string? lastCheckpoint = null;
        double? validationLoss = null;
        var clock = Stopwatch.StartNew();
        double elapsedBefore = state.ElapsedSeconds;
        int startStep = state.Step;

        TrainerState Snapshot(int step) => state with
        {
            Step = step, Samples = run.Mixer.Cursor.Samples, SourceSamples = run.Mixer.Cursor.SourceSamples,
            Tokens = run.Mixer.Cursor.Samples * sequence, ElapsedSeconds = elapsedBefore + clock.Elapsed.TotalSeconds,
        };

        for (int step = state.Step; step < total; step++)
        {
            if (cancellation.IsCancellationRequested)
            {
                lastCheckpoint = run.Checkpoints.Save(run.Parameters, run.Optimizer, Snapshot(step), run.Tokenizer, o.Tokenizer);
                TrainingPlot.Write(plotPath, metrics.Records);
                return new TrainingResult(step, true, null, lastCheckpoint, validationLoss, losses);
            }
            var stepClock = Stopwatch.StartNew();
            string stage = run.Mixer.CurrentStage.Name;
            double learningRate = schedule.At(step);
            model.ZeroGradients();
            double loss = 0, zLoss = 0;
            for (int micro = 0; micro < o.GradientAccumulation; micro++)
            {
                run.Mixer.Next(batch, windows);
                for (int b = 0; b < batch; b++)
                {
                    windows.AsSpan(b * (sequence + 1), sequence).CopyTo(inputs.AsSpan(b * sequence));
                    windows.AsSpan(b * (sequence + 1) + 1, sequence).CopyTo(targets.AsSpan(b * sequence));
                }
                var result = model.ForwardBackward(inputs, targets, batch, sequence, (float)o.ZLoss, 1f / o.GradientAccumulation);
                loss += result.CrossEntropy / o.GradientAccumulation;
                zLoss += result.ZLoss / o.GradientAccumulation;
            }
            double norm = GradientClipper.Clip(model.Parameters, o.GradientClip);
            run.Optimizer.Step(learningRate, run.Pool);
            model.ParametersChanged();
            losses.Add(loss);
            int done = step + 1;
            double tokensPerSecond = (double)o.SequencesPerStep * sequence / Math.Max(1e-9, stepClock.Elapsed.TotalSeconds);

            double? validation = null;
            if (run.Validation.Count > 0 && ((o.EvalEvery > 0 && done % o.EvalEvery == 0) || done == total))
                validationLoss = validation = Evaluate();
            if (done % o.LogEvery == 0 || validation is not null || done == total)
                metrics.Write(new MetricsRecord
                {
                    Step = done, Tokens = run.Mixer.Cursor.Samples * sequence, Loss = loss, ZLoss = zLoss, LearningRate = learningRate,
                    GradientNorm = norm, TokensPerSecond = tokensPerSecond, ValidationLoss = validation,
                    ValidationPerplexity = validation is double v ? Math.Exp(v) : null, Stage = stage,
                });
            if (validation is not null) TrainingPlot.Write(plotPath, metrics.Records);
            if (o.CheckpointEvery > 0 && done % o.CheckpointEvery == 0 && done < total)
                lastCheckpoint = run.Checkpoints.Save(run.Parameters, run.Optimizer, Snapshot(done), run.Tokenizer, o.Tokenizer);

            double average = clock.Elapsed.TotalSeconds / (done - startStep);
            progress?.Report(new TrainingProgress(done, total, run.Mixer.Cursor.Samples * sequence, loss, learningRate, norm, tokensPerSecond,
                validation, stage, TimeSpan.FromSeconds(elapsedBefore + clock.Elapsed.TotalSeconds), TimeSpan.FromSeconds(average * (total - done))));
        }
        lastCheckpoint = run.Checkpoints.Save(run.Parameters, run.Optimizer, Snapshot(total), run.Tokenizer, o.Tokenizer);
        TrainingPlot.Write(plotPath, metrics.Records);
        string final = WriteFinal();
        return new TrainingResult(total, false, final, lastCheckpoint, validationLoss, losses);
    }

    /// <summary>Mean cross-entropy over the first eval_batches micro-batches of every held-out set, weighted by tokens.</summary>
    public double Evaluate()
    {
        var o = run.Options;
        int sequence = o.SequenceLength, batch = o.BatchSize;
        var inputs = new int[batch * sequence];
        var targets = new int[batch * sequence];
        double sum = 0;
        long tokens = 0;
        foreach (var set in run.Validation)
        {
            int batches = (set.Count + batch - 1) / batch;
            if (o.EvalBatches > 0) batches = Math.Min(batches, o.EvalBatches);
            for (int b = 0; b < batches; b++)
            {
                int rows = Math.Min(batch, set.Count - b * batch);
                for (int r = 0; r < rows; r++)
                {
                    var window = set[b * batch + r];
                    window[..sequence].CopyTo(inputs.AsSpan(r * sequence));
                    window[1..].CopyTo(targets.AsSpan(r * sequence));
                }
                var loss = run.Model.Evaluate(inputs, targets, rows, sequence, 0f);
                sum += loss.CrossEntropy * loss.Tokens;
                tokens += loss.Tokens;
            }
        }
        return tokens == 0 ? double.NaN : sum / tokens;
    }

    private string WriteFinal()
    {
        var o = run.Options;
        string final = Path.Combine(o.Output, "final"), partial = Path.Combine(o.Output, ".partial-final");
        if (Directory.Exists(partial)) Directory.Delete(partial, true);
        Directory.CreateDirectory(partial);
        var type = o.FinalDtype switch { "bf16" => GgmlType.BF16, "f16" => GgmlType.F16, _ => GgmlType.F32 };
        ModelWeightsWriter.Write(partial, run.Parameters, type, run.Tokenizer, o.Tokenizer);
        if (Directory.Exists(final)) Directory.Delete(final, true);
        Directory.Move(partial, final);
        return final;
    }
}
