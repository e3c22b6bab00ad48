using System.CommandLine;
using System.Globalization;
using Dclm.Training;
using Dclm.Training.FineTuning;
using Dclm.Training.Distributed;
using Dclm.Models.Adapters;

namespace Dclm.Cli.Commands;

/// <summary>`dclm finetune`: LoRA, QLoRA or full fine-tuning on JSON lines of conversations, prompt/completion pairs or texts.</summary>
internal static class FinetuneCommand
{
    public static Command Create()
    {
        var flags = new AdapterTrainingFlags(new FineTuneOptions { Model = "", Data = "", Output = "" },
            "JSON lines: {\"messages\": [...]}, {\"prompt\", \"completion\"} or {\"text\"}, detected per line",
            "run directory: adapter/ (final/ for --method full), checkpoints/, metrics.jsonl, loss.png",
            "tokens per packed sequence", "sequences per micro-batch");
        var method = new Option<string>("--method") { Description = "lora (float base), qlora (quantized base kept as stored) or full (every weight, open_lm)", DefaultValueFactory = _ => "lora" };
        method.AcceptOnlyFromAmong("lora", "qlora", "full");
        var dropout = new Option<double>("--lora-dropout") { Description = "dropout on the adapters' inputs", DefaultValueFactory = _ => 0.05 };
        var zero = new Option<int>("--zero") { Description = "under mpirun/srun: 0 keeps AdamW's state on every rank, 1 shards it across ranks (ZeRO-1)" };
        zero.AcceptOnlyFromAmong("0", "1");
        var command = new Command("finetune", "Fine-tune a model with LoRA, QLoRA or in full (Ctrl+C saves a checkpoint; --resume continues)") { method, dropout, zero };
        flags.AddTo(command);
        // Ctrl+C cancels the token (see Terminal.Interrupts); the trainer stops between two blocks of the model, drops the half-done
        // update and checkpoints the last completed one, so --resume repeats the dropped update exactly (under mpirun it finishes the update).
        // Under mpirun/srun every rank runs this; --batch-size is the global micro-batch, split among the ranks.
        command.SetAction((parse, interrupt) => ProcessGroup.Run(group =>
        {
            var options = flags.Read(parse) with
            {
                Method = parse.GetValue(method) switch { "qlora" => FineTuneMethod.QLora, "full" => FineTuneMethod.Full, _ => FineTuneMethod.Lora },
                Dropout = parse.GetValue(dropout),
            };
            var parallel = new DataParallel(group, parse.GetValue(zero));
            parallel.LocalBatch(options.BatchSize);
            var log = ProcessGroup.RootLog(parallel);
            using var run = FineTuneRun.Create(options, TemplateChatRenderer.For, log, writer: parallel.IsRoot);
            var c = run.Loaded.Config;
            string what = run.Adapters is { } adapters
                ? $"{adapters.Count:N0} adapter values (rank {options.Rank} on {string.Join(",", options.Targets.Select(LoraTargets.Name))}) over a frozen {string.Join("/", run.Loaded.TensorTypes.Keys.Order())} base"
                : $"all {run.Parameters!.Count:N0} parameters";
            log($"model: {c.Architecture} dim {c.Dim}, {c.Layers} layers; training {what}; {run.Settings.TotalSteps} updates of {run.Settings.SequencesPerStep * options.SequenceLength:N0} tokens");
            var trainer = new Trainer(run, parallel);
            ProcessGroup.Describe(parallel, options.BatchSize, run.Optimizer.StateBytes, log);
            if (!parallel.IsRoot) return trainer.Run(null, interrupt).Interrupted ? 130 : 0;
            var result = TrainingDisplay.Run(trainer.Run, run.Settings.TotalSteps, run.Resumed?.Step ?? 0, parse.GetValue(flags.Quiet), interrupt);
            if (result.ValidationLoss is double v) Console.WriteLine($"validation loss {v.ToString("F4", CultureInfo.InvariantCulture)}");
            Console.WriteLine(result.Interrupted ? $"stopped at step {result.Steps}; checkpoint {result.LastCheckpoint} (continue with --resume)" : $"{(run.Adapters is null ? "model" : "adapter")}: {result.FinalModel}");
            return result.Interrupted ? 130 : 0;
        }));
        return command;
    }
}
