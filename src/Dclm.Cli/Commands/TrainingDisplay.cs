using System.Globalization;
using Dclm.Training;
using Spectre.Console;

namespace Dclm.Cli.Commands;

/// <summary>
/// How dclm train and dclm finetune show a run: a progress bar with loss, tokens/s, ETA and memory on a terminal,
/// one line per update otherwise.
/// </summary>
internal static class TrainingDisplay
{
    /// <summary>
    /// Runs <paramref name="train"/> with progress shown; <paramref name="interrupt"/> (Ctrl+C, see Terminal.Interrupts)
    /// asks the trainer to stop (inside the update for <c>train</c> and <c>finetune</c>, after it for <c>align</c>), save a checkpoint of
    /// the last completed update and return.
    /// </summary>
    public static TrainingResult Run(Func<IProgress<TrainingProgress>, CancellationToken, TrainingResult> train, int total, int start, bool lines, CancellationToken interrupt)
    {
        using var announce = interrupt.Register(() => Console.Error.WriteLine("interrupted: saving a checkpoint of the last completed update..."));
        if (lines || Console.IsErrorRedirected || Console.IsOutputRedirected)
            return train(new DirectProgress<TrainingProgress>(p => Console.Error.WriteLine(Line(p))), interrupt);
        TrainingResult? result = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("training", maxValue: total);
                task.Value = start;
                result = train(new DirectProgress<TrainingProgress>(p =>
                {
                    task.Value = p.Step;
                    task.Description = Markup.Escape(Line(p));
                }), interrupt);
            });
        return result!;
    }

    /// <summary>One update: step, loss, validation loss, learning rate, tokens/s, ETA and resident memory.</summary>
    public static string Line(TrainingProgress p)
    {
        var c = CultureInfo.InvariantCulture;
        string detail = p.Detail is null ? "" : " " + p.Detail;
        if (p.Step == 0) return "before training:" + (p.ValidationLoss is double initial ? $" validation loss {initial.ToString("F4", c)}" : "") + detail;
        string validation = p.ValidationLoss is double v ? $" val {v.ToString("F4", c)}" : "";
        string memory = p.MemoryBytes > 0 ? $" mem {(p.MemoryBytes / (1024.0 * 1024 * 1024)).ToString("F2", c)} GiB" : "";
        return $"step {p.Step}/{p.TotalSteps} loss {p.Loss.ToString("F4", c)}{detail}{validation} lr {p.LearningRate.ToString("E2", c)} {p.TokensPerSecond.ToString("F0", c)} tok/s eta {p.Remaining:hh\\:mm\\:ss}{memory}";
    }
}
