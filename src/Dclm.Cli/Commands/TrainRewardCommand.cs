using System.CommandLine;
using Dclm.Models.Adapters;
using Dclm.Training.Alignment;
using Dclm.Training.FineTuning;

namespace Dclm.Cli.Commands;

/// <summary>`dclm train-reward`: a reward model (LoRA adapters plus a scalar head over a frozen base) fitted to preference pairs.</summary>
internal static class TrainRewardCommand
{
    public static Command Create()
    {
        // TRL's RewardTrainer trains adapters at lr ~1e-4..1e-3; one pair per micro-batch as in DPO.
        var defaults = new FineTuneOptions { Model = "", Data = "", Output = "", LearningRate = 1e-4, SequenceLength = 1024, BatchSize = 1, GradientAccumulation = 8, ValidationSplit = 0.05 };
        var flags = new AdapterTrainingFlags(defaults,
            "JSON lines of preference pairs in TRL's layout: {\"prompt\", \"chosen\", \"rejected\"}, strings or message lists",
            $"reward-model directory: adapter/, {RewardHead.FileName}, checkpoints/, metrics.jsonl, alignment.png",
            "longest prompt + completion kept, in tokens (longer pairs are left out)", "pairs per micro-batch");
        var command = new Command("train-reward", "Train a reward model on preference pairs: LoRA adapters and a scalar head on the last token, Bradley–Terry loss (Ctrl+C saves a checkpoint; --resume continues)");
        flags.AddTo(command);
        command.SetAction((parse, interrupt) => CliErrors.RunAsync(() =>
        {
            using var run = RewardRun.Create(flags.Read(parse), TemplateChatRenderer.For, line => Console.Error.WriteLine(line), interrupt);
            var c = run.Loaded.Config;
            var o = run.Settings;
            Console.Error.WriteLine($"model: {c.Architecture} dim {c.Dim}, {c.Layers} layers; {o.Method.ToString().ToLowerInvariant()}: {run.Adapters.Count:N0} adapter values " +
                $"(rank {o.Rank} on {string.Join(",", o.Targets.Select(LoraTargets.Name))}) and a {c.Dim}-value reward head over a frozen " +
                $"{string.Join("/", run.Loaded.TensorTypes.Keys.Order())} base; {run.TotalSteps} updates of {o.BatchSize * o.GradientAccumulation} pairs");
            var result = TrainingDisplay.Run(new PreferenceTrainer(run).Run, run.TotalSteps, run.Resumed?.Step ?? 0, parse.GetValue(flags.Quiet), interrupt);
            Console.WriteLine(result.Interrupted ? $"stopped at step {result.Steps}; checkpoint {result.LastCheckpoint} (continue with --resume)" : $"reward model: {result.FinalModel}");
            return Task.FromResult(result.Interrupted ? 130 : 0);
        }));
        return command;
    }
}
