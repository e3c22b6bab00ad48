using System.CommandLine;
using System.Globalization;
using Dclm.Models.Adapters;
using Dclm.Training.Alignment;
using Dclm.Training.Distributed;
using Dclm.Training.FineTuning;

namespace Dclm.Cli.Commands;

/// <summary>`dclm align --method dpo`: preference alignment of LoRA adapters over a frozen base (LoRA or QLoRA, by the base's stored type).</summary>
internal static class AlignCommand
{
    public static Command Create()
    {
        // TRL's DPOTrainer defaults where they differ from fine-tuning's: lr 5e-7 is for full weights, adapters take ~5e-6 to 5e-4.
        var defaults = new FineTuneOptions { Model = "", Data = "", Output = "", LearningRate = 5e-5, SequenceLength = 1024, BatchSize = 1, GradientAccumulation = 8, ValidationSplit = 0.05 };
        var flags = new AdapterTrainingFlags(defaults,
            "JSON lines of preference pairs in TRL's layout: {\"prompt\", \"chosen\", \"rejected\"}, strings or message lists",
            "run directory: adapter/, checkpoints/, metrics.jsonl, alignment.png",
            "longest prompt + completion kept, in tokens (longer pairs are left out)", "pairs per micro-batch");
        var method = new Option<string>("--method") { Description = "dpo (direct preference optimisation against the base as reference)", DefaultValueFactory = _ => "dpo" };
        method.AcceptOnlyFromAmong("dpo");
        var beta = new Option<double>("--beta") { Description = "β: the implicit reward's scale; smaller lets the policy move further from the base", DefaultValueFactory = _ => 0.1 };
        var loss = new Option<string>("--loss") { Description = "sigmoid (DPO) or ipo", DefaultValueFactory = _ => "sigmoid" };
        loss.AcceptOnlyFromAmong("sigmoid", "ipo");
        var smoothing = new Option<double>("--label-smoothing") { Description = "conservative DPO: assumed probability that a preference is flipped (sigmoid only)" };
        var command = new Command("align", "Align a model to preference pairs with DPO (or IPO), training LoRA adapters (Ctrl+C saves a checkpoint; --resume continues)")
        {
            method, beta, loss, smoothing,
        };
        flags.AddTo(command);
        command.SetAction((parse, interrupt) => ProcessGroup.Run(group =>
        {
            var options = new DpoOptions
            {
                Training = flags.Read(parse), Beta = parse.GetValue(beta), LabelSmoothing = parse.GetValue(smoothing),
                Loss = parse.GetValue(loss) == "ipo" ? PreferenceLossKind.Ipo : PreferenceLossKind.Sigmoid,
            };
            var parallel = new DataParallel(group);
            parallel.LocalBatch(options.Training.BatchSize);
            var log = ProcessGroup.RootLog(parallel);
            using var run = DpoRun.Create(options, TemplateChatRenderer.For, log, interrupt, writer: parallel.IsRoot);
            var c = run.Loaded.Config;
            var o = run.Settings;
            log($"model: {c.Architecture} dim {c.Dim}, {c.Layers} layers; {o.Method.ToString().ToLowerInvariant()}: {run.Adapters.Count:N0} adapter values " +
                $"(rank {o.Rank} on {string.Join(",", o.Targets.Select(LoraTargets.Name))}) over a frozen {string.Join("/", run.Loaded.TensorTypes.Keys.Order())} base, " +
                $"which is also the reference; {run.TotalSteps} updates of {o.BatchSize * o.GradientAccumulation} pairs, β {options.Beta.ToString(CultureInfo.InvariantCulture)}");
            var trainer = new PreferenceTrainer(run, parallel);
            ProcessGroup.Describe(parallel, o.BatchSize, run.Optimizer.StateBytes, log);
            if (!parallel.IsRoot) return trainer.Run(null, interrupt).Interrupted ? 130 : 0;
            var result = TrainingDisplay.Run(trainer.Run, run.TotalSteps, run.Resumed?.Step ?? 0, parse.GetValue(flags.Quiet), interrupt);
            Console.WriteLine(result.Interrupted ? $"stopped at step {result.Steps}; checkpoint {result.LastCheckpoint} (continue with --resume)" : $"adapter: {result.FinalModel}");
            return result.Interrupted ? 130 : 0;
        }));
        return command;
    }
}
