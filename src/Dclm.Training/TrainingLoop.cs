using System.Diagnostics;
using Dclm.Training.Checkpointing;
using Dclm.Training.Distributed;
using Dclm.Training.Reporting;

namespace Dclm.Training;

/// <summary>
/// The scaffolding every training loop shares (pretraining and fine-tuning's <see cref="Trainer"/>, the preference and
/// policy-gradient trainers): the metrics log, the clock that continues a resumed run's, the losses and validations
/// reported back, the validation and checkpoint intervals, the plot, and how a run ends (interrupted: a checkpoint of
/// the last completed update; finished: the last checkpoint, the final output, a barrier for the other ranks). A loop
/// supplies what an update is.
/// </summary>
public sealed class TrainingLoop : IDisposable
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly double _elapsedBefore;
    private readonly int _startStep;
    private readonly string _plotPath;
    private readonly Action<string, IReadOnlyList<MetricsRecord>> _plot;
    private readonly List<double> _losses = [];
    private readonly List<(int, double)> _validations = [];

    /// <summary>
    /// A loop of <paramref name="total"/> updates continuing <paramref name="state"/>, writing into
    /// <paramref name="output"/> (metrics.jsonl and the plot file <paramref name="plotFile"/>, drawn by
    /// <paramref name="plot"/>) when it is the <paramref name="writer"/> (rank 0).
    /// </summary>
    public TrainingLoop(string output, TrainerState state, int total, bool writer, string plotFile, Action<string, IReadOnlyList<MetricsRecord>> plot)
    {
        State = state;
        Total = total;
        _elapsedBefore = state.ElapsedSeconds;
        _startStep = state.Step;
        _plotPath = Path.Combine(output, plotFile);
        _plot = plot;
        Directory.CreateDirectory(output);
        Metrics = writer ? new MetricsLog(Path.Combine(output, "metrics.jsonl"), state.Step) : null;
    }

    /// <summary>The state the run started from (a checkpoint's, or a fresh one).</summary>
    public TrainerState State { get; }
    /// <summary>Updates in the run.</summary>
    public int Total { get; }
    /// <summary>metrics.jsonl; null on ranks that do not write.</summary>
    public MetricsLog? Metrics { get; }
    /// <summary>The newest checkpoint written.</summary>
    public string? LastCheckpoint { get; set; }
    /// <summary>The last validation loss measured.</summary>
    public double? ValidationLoss { get; private set; }

    /// <summary>Training time including the time before a resume.</summary>
    public TimeSpan Elapsed => TimeSpan.FromSeconds(ElapsedSeconds);

    /// <summary>Training seconds including the time before a resume (a checkpoint's <see cref="TrainerState.ElapsedSeconds"/>).</summary>
    public double ElapsedSeconds => _elapsedBefore + _clock.Elapsed.TotalSeconds;

    /// <summary>The time left after <paramref name="done"/> updates, at this call's mean pace.</summary>
    public TimeSpan Remaining(int done) => TimeSpan.FromSeconds(_clock.Elapsed.TotalSeconds / Math.Max(1, done - _startStep) * (Total - done));

    /// <summary>Whether the update that completes step <paramref name="done"/> validates: every <paramref name="every"/> and at the end.</summary>
    public bool Validates(int done, int every) => (every > 0 && done % every == 0) || done == Total;

    /// <summary>Whether a checkpoint follows step <paramref name="done"/> (every <paramref name="every"/>; the end writes its own).</summary>
    public bool Checkpoints(int done, int every) => every > 0 && done % every == 0 && done < Total;

    /// <summary>Records an update's training loss.</summary>
    public void Trained(double loss) => _losses.Add(loss);

    /// <summary>Records a validation loss measured after <paramref name="step"/> updates.</summary>
    public void Validated(int step, double loss)
    {
        ValidationLoss = loss;
        _validations.Add((step, loss));
    }

    /// <summary>Redraws the plot from the metrics (writers only).</summary>
    public void Plot()
    {
        if (Metrics is not null) _plot(_plotPath, Metrics.Records);
    }

    /// <summary>Ends an interrupted run at <paramref name="step"/>: saves a checkpoint through <paramref name="save"/> and plots.</summary>
    public TrainingResult Stop(int step, Func<int, string?> save)
    {
        LastCheckpoint = save(step);
        Plot();
        return new TrainingResult(step, true, null, LastCheckpoint, ValidationLoss, _losses, _validations);
    }

    /// <summary>
    /// Ends a completed run: the last checkpoint, the plot, the final output (<paramref name="writeFinal"/>, writers only)
    /// and a barrier, so the other ranks return once rank 0's files are complete.
    /// </summary>
    public TrainingResult Finish(Func<int, string?> save, Func<string> writeFinal, DataParallel parallel)
    {
        LastCheckpoint = save(Total);
        Plot();
        string? final = Metrics is not null ? writeFinal() : null;
        parallel.Group.Barrier();
        return new TrainingResult(Total, false, final, LastCheckpoint, ValidationLoss, _losses, _validations);
    }

    public void Dispose() => Metrics?.Dispose();
}
