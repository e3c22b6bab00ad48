using System.Diagnostics;
using Dclm.Training.Checkpointing;
using Dclm.Training.Distributed;
using Dclm.Training.Optimization;
using Dclm.Training.Reporting;

namespace Dclm.Training;

/// <summary>What the trainer reports after each update (and once before the first, with the baseline validation loss).</summary>
/// <param name="Step">Updates completed.</param>
/// <param name="TotalSteps">Updates the run makes.</param>
/// <param name="Tokens">Tokens trained on so far.</param>
/// <param name="Loss">Mean loss of the update.</param>
/// <param name="LearningRate">Learning rate of the update.</param>
/// <param name="GradientNorm">Global gradient norm before clipping.</param>
/// <param name="TokensPerSecond">Training tokens per second of the update.</param>
/// <param name="ValidationLoss">Validation loss when this update ran one.</param>
/// <param name="Stage">The data stage (pretraining's mixer).</param>
/// <param name="Elapsed">Time since the run (or its resumption) began.</param>
/// <param name="Remaining">Estimated time to the end.</param>
/// <param name="MemoryBytes">The process's resident memory after the update.</param>
/// <param name="Detail">What else the run reports (a preference run's reward margin and accuracy), shown after the loss.</param>
public sealed record TrainingProgress(int Step, int TotalSteps, long Tokens, double Loss, double LearningRate, double GradientNorm,
    double TokensPerSecond, double? ValidationLoss, string Stage, TimeSpan Elapsed, TimeSpan? Remaining, long MemoryBytes = 0, string? Detail = null);

/// <summary>How a run ended.</summary>
/// <param name="Steps">Updates completed.</param>
/// <param name="Interrupted">Stopped early by cancellation (a checkpoint was saved).</param>
/// <param name="FinalModel">The final output (a model directory, an adapter), or null when interrupted.</param>
/// <param name="LastCheckpoint">The newest checkpoint written.</param>
/// <param name="ValidationLoss">The last validation loss, if any was measured.</param>
/// <param name="Losses">Training loss of every update this call ran.</param>
/// <param name="ValidationLosses">Every validation loss this call measured, with its step.</param>
public sealed record TrainingResult(int Steps, bool Interrupted, string? FinalModel, string? LastCheckpoint, double? ValidationLoss, IReadOnlyList<double> Losses,
    IReadOnlyList<(int Step, double Loss)>? ValidationLosses = null);

/// <summary>
/// The training loop: for each update, accumulate gradients over micro-batches, clip, step AdamW under
/// the warmup-cosine schedule; validate, log metrics, plot and checkpoint on their intervals. Cancellation stops
/// the current update between two blocks of the model (seconds, even for a 7B model), discards it, saves a checkpoint
/// of the last completed update (data cursor included) and returns, so a resumed run repeats the discarded update
/// exactly; a validation pass it stops is skipped. Under data parallelism, where every rank must reach the same
/// collectives, the current update is finished instead. The same loop serves pretraining and fine-tuning.
/// Under data parallelism (<see cref="DataParallel"/>) <see cref="TrainerSettings.BatchSize"/> is the global batch:
/// each rank trains on its share, gradients are summed over ranks before clipping, and rank 0 alone writes
/// metrics, plots and checkpoints.
/// </summary>
public sealed class Trainer
{
    private readonly ITrainingRun _run;
    private readonly DataParallel _parallel;

    /// <summary>A trainer of <paramref name="run"/>; under ZeRO-1 the run's optimizer keeps only this rank's share from here on.</summary>
    public Trainer(ITrainingRun run, DataParallel? parallel = null)
    {
        _run = run;
        _parallel = parallel ?? DataParallel.Single;
        _parallel.Prepare(run.Optimizer);
    }

    /// <summary>Runs until the configured number of updates or until <paramref name="cancellation"/> fires.</summary>
    public TrainingResult Run(IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var o = _run.Settings;
        var model = _run.Model;
        int total = o.TotalSteps, sequence = o.SequenceLength;
        var schedule = new LearningRateSchedule(o.LearningRate, o.MinLearningRate, o.Warmup, total);
        var state = _run.Resumed ?? new TrainerState { Seed = o.Seed, SourceNames = _run.SourceNames, SourceSamples = new long[_run.SourceNames.Length] };
        bool root = _parallel.IsRoot;
        if (!root) progress = null;
        var data = _parallel.Share(_run.Data, o.BatchSize, sequence);
        var batch = new TrainingBatch(data.LocalBatch, sequence);
        using var loop = new TrainingLoop(o.Output, state, total, root, "loss.png", TrainingPlot.Write);
        var metrics = loop.Metrics;

        TrainerState Snapshot(int step) => state with
        {
            Step = step, Samples = data.Cursor.Samples, SourceSamples = data.Cursor.SourceSamples,
            Tokens = data.Cursor.Samples * sequence, ElapsedSeconds = loop.ElapsedSeconds,
        };
        string? Save(int step)
        {
            var optimizer = _parallel.Whole(_run.Optimizer); // collective under ZeRO-1
            return root ? _run.Checkpoints.Save(_run.WriteWeights, optimizer!, Snapshot(step)) : null;
        }

        // Only a single process may stop inside an update: ranks see Ctrl+C at different moments and must meet at each collective.
        var inside = _parallel.Ranks == 1 ? cancellation : CancellationToken.None;
        TrainingResult Interrupted(int step) => loop.Stop(step, Save);

        // A fresh run measures the held-out loss before the first update: the baseline the curve falls from.
        double? baseline = null;
        if (state.Step == 0)
            try { baseline = Evaluate(inside); }
            catch (OperationCanceledException) when (inside.IsCancellationRequested) { return Interrupted(0); }
        if (baseline is double initial)
        {
            loop.Validated(0, initial);
            metrics?.Write(new MetricsRecord { Step = 0, Tokens = 0, ValidationLoss = initial, ValidationPerplexity = Math.Exp(initial), Stage = data.Stage, WorldSize = _parallel.Ranks });
            progress?.Report(new TrainingProgress(0, total, 0, double.NaN, 0, 0, 0, initial, data.Stage, TimeSpan.Zero, null, Environment.WorkingSet));
        }
        for (int step = state.Step; step < total; step++)
        {
            if (_parallel.Any(cancellation.IsCancellationRequested)) return Interrupted(step);
            var stepClock = Stopwatch.StartNew();
            string stage = data.Stage;
            double learningRate = schedule.At(step);
            model.ZeroGradients();
            double[] updateLoss = [0, 0]; // (cross-entropy, z-loss) of the update, this rank's part
            var cursor = data.Cursor; // where the update's data starts: a stopped update is rewound to it
            try
            {
                for (int micro = 0; micro < o.GradientAccumulation; micro++)
                {
                    data.Next(batch);
                    // Dropout masks are a pure function of the seed, the update, the micro-batch (and the rank), so a resumed run draws the same ones.
                    model.DropoutKey = DropoutKey(o.Seed, step, micro * _parallel.Ranks + _parallel.Rank);
                    // Each rank's mean is weighted by its share of the global batch's learned targets: Σ over ranks = the global mean.
                    double weight = data.TargetShare / o.GradientAccumulation;
                    var result = batch.ForwardBackward(model, (float)o.ZLoss, (float)weight, inside);
                    updateLoss[0] += result.CrossEntropy * weight;
                    updateLoss[1] += result.ZLoss * weight;
                }
            }
            catch (OperationCanceledException) when (inside.IsCancellationRequested)
            {
                // Nothing of the update reached the parameters or the optimizer; only the data stream moved.
                data.Cursor = cursor;
                model.ZeroGradients();
                return Interrupted(step);
            }
            _parallel.Sum(updateLoss);
            double loss = updateLoss[0], zLoss = updateLoss[1];
            double norm = _parallel.Update(model.Parameters, _run.Optimizer, o.GradientClip, learningRate, _run.Pool);
            model.ParametersChanged();
            loop.Trained(loss);
            int done = step + 1;
            double tokensPerSecond = (double)o.SequencesPerStep * sequence / Math.Max(1e-9, stepClock.Elapsed.TotalSeconds);

            double? validation = null;
            bool stopped = false;
            if (loop.Validates(done, o.EvalEvery))
            {
                try { validation = Evaluate(inside); }
                catch (OperationCanceledException) when (inside.IsCancellationRequested) { stopped = true; }
                if (validation is double v) loop.Validated(done, v);
            }
            if (done % o.LogEvery == 0 || validation is not null || done == total)
                metrics?.Write(new MetricsRecord
                {
                    Step = done, Tokens = data.Cursor.Samples * sequence, Loss = loss, ZLoss = zLoss, LearningRate = learningRate,
                    GradientNorm = norm, TokensPerSecond = tokensPerSecond, ValidationLoss = validation,
                    ValidationPerplexity = validation is double v ? Math.Exp(v) : null, Stage = stage, WorldSize = _parallel.Ranks,
                });
            if (validation is not null) loop.Plot();
            if (stopped) return Interrupted(done);
            if (loop.Checkpoints(done, o.CheckpointEvery)) loop.LastCheckpoint = Save(done);
            progress?.Report(new TrainingProgress(done, total, data.Cursor.Samples * sequence, loss, learningRate, norm, tokensPerSecond,
                validation, stage, loop.Elapsed, loop.Remaining(done), Environment.WorkingSet));
        }
        return loop.Finish(Save, _run.WriteFinal, _parallel);
    }

    /// <summary>
    /// Mean cross-entropy over the run's held-out batches, weighted by tokens; null without validation data. Ranks split the
    /// batches. <paramref name="cancellation"/> stops it between blocks of the model (<see cref="OperationCanceledException"/>).
    /// </summary>
    public double? Evaluate(CancellationToken cancellation = default)
    {
        Span<double> totals = [0, 0]; // (Σ cross-entropy, tokens)
        foreach (var batch in _parallel.Mine(_run.ValidationBatches()))
        {
            var loss = batch.Evaluate(_run.Model, cancellation);
            totals[0] += loss.CrossEntropy * loss.Tokens;
            totals[1] += loss.Tokens;
        }
        _parallel.Sum(totals);
        return totals[1] == 0 ? null : totals[0] / totals[1];
    }

    private static ulong DropoutKey(ulong seed, int step, int micro)
    {
        var random = new DeterministicRandom(seed ^ ((ulong)step << 20) ^ (ulong)micro ^ 0xD0D0UL);
        return random.NextUInt64() | 1; // never 0, which means "no dropout"
    }
}
