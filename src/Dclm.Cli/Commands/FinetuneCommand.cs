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
        var model = ModelOptions.Model();
        var data = new Option<string>("--data") { Description = "JSON lines: {\"messages\": [...]}, {\"prompt\", \"completion\"} or {\"text\"}, detected per line", Required = true };
        var output = new Option<string>("--output") { Description = "run directory: adapter/ (final/ for --method full), checkpoints/, metrics.jsonl, loss.png", Required = true };
        var method = new Option<string>("--method") { Description = "lora (float base), qlora (quantized base kept as stored) or full (every weight, open_lm)", DefaultValueFactory = _ => "lora" };
        method.AcceptOnlyFromAmong("lora", "qlora", "full");
        var rank = new Option<int>("--lora-rank") { Description = "adapter rank r", DefaultValueFactory = _ => 16 };
        var alpha = new Option<double>("--lora-alpha") { Description = "adapter α (scale α / r)", DefaultValueFactory = _ => 32 };
        var dropout = new Option<double>("--lora-dropout") { Description = "dropout on the adapters' inputs", DefaultValueFactory = _ => 0.05 };
        var target = new Option<string>("--target") { Description = "projections with adapters: any of q,k,v,o,gate,up,down (or all)", DefaultValueFactory = _ => "q,k,v,o,gate,up,down" };
        var epochs = new Option<double>("--epochs") { Description = "passes over the data", DefaultValueFactory = _ => 1 };
        var steps = new Option<int>("--steps") { Description = "optimizer updates (instead of --epochs)" };
        var lr = new Option<double>("--lr") { Description = "peak learning rate (warmup, then cosine decay to 0)", DefaultValueFactory = _ => 2e-4 };
        var warmup = new Option<int?>("--warmup") { Description = "warmup updates (default: 3% of the run)" };
        var weightDecay = new Option<double>("--weight-decay") { Description = "AdamW weight decay", DefaultValueFactory = _ => 0 };
        var seqLen = new Option<int>("--seq-len") { Description = "tokens per packed sequence", DefaultValueFactory = _ => 1024 };
        var batch = new Option<int>("--batch-size") { Description = "sequences per micro-batch", DefaultValueFactory = _ => 1 };
        var accumulation = new Option<int>("--grad-accum") { Description = "micro-batches per update", DefaultValueFactory = _ => 8 };
        var checkpointing = new Option<bool>("--gradient-checkpointing") { Description = "keep only each layer's input and recompute it in the backward pass (less memory, ~1/3 more compute)" };
        var seed = new Option<ulong>("--seed") { Description = "seed of the adapters, the data order and dropout", DefaultValueFactory = _ => 42 };
        var threads = ModelOptions.Threads();
        var validation = new Option<string?>("--validation-data") { Description = "held-out examples (default: --validation-split of the data)" };
        var split = new Option<double>("--validation-split") { Description = "fraction of the examples held out when there is no --validation-data (needs 10 or more)", DefaultValueFactory = _ => 0.05 };
        var evalEvery = new Option<int>("--eval-every") { Description = "validate every N updates (0: at the end)" };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "checkpoint every N updates (0: at the end and on Ctrl+C)", DefaultValueFactory = _ => 100 };
        var resume = new Option<bool>("--resume") { Description = "continue the run in --output from its newest checkpoint" };
        var zero = new Option<int>("--zero") { Description = "under mpirun/srun: 0 keeps AdamW's state on every rank, 1 shards it across ranks (ZeRO-1)" };
        zero.AcceptOnlyFromAmong("0", "1");
        var quiet = new Option<bool>("--no-progress") { Description = "print one line per update instead of a progress bar" };
        var command = new Command("finetune", "Fine-tune a model with LoRA, QLoRA or in full (Ctrl+C saves a checkpoint; --resume continues)")
        {
            model, data, output, method, rank, alpha, dropout, target, epochs, steps, lr, warmup, weightDecay, seqLen, batch, accumulation,
            checkpointing, seed, threads, validation, split, evalEvery, checkpointEvery, resume, zero, quiet,
        };
        // Ctrl+C cancels the token (see Terminal.Interrupts); the trainer finishes its update and writes a checkpoint, however long that takes.
        // Under mpirun/srun every rank runs this; --batch-size is the global micro-batch, split among the ranks.
        command.SetAction((parse, interrupt) => ProcessGroup.Run(group =>
        {
            var options = new FineTuneOptions
            {
                Model = parse.GetValue(model)!, Data = parse.GetValue(data)!, Output = parse.GetValue(output)!,
                Method = parse.GetValue(method) switch { "qlora" => FineTuneMethod.QLora, "full" => FineTuneMethod.Full, _ => FineTuneMethod.Lora },
                Rank = parse.GetValue(rank), Alpha = parse.GetValue(alpha), Dropout = parse.GetValue(dropout), Targets = LoraTargets.Parse(parse.GetValue(target)!),
                Epochs = parse.GetValue(epochs), Steps = parse.GetValue(steps), LearningRate = parse.GetValue(lr), Warmup = parse.GetValue(warmup),
                WeightDecay = parse.GetValue(weightDecay), SequenceLength = parse.GetValue(seqLen), BatchSize = parse.GetValue(batch),
                GradientAccumulation = parse.GetValue(accumulation), GradientCheckpointing = parse.GetValue(checkpointing), Seed = parse.GetValue(seed),
                Threads = parse.GetValue(threads), ValidationData = parse.GetValue(validation), ValidationSplit = parse.GetValue(split),
                EvalEvery = parse.GetValue(evalEvery), CheckpointEvery = parse.GetValue(checkpointEvery), Resume = parse.GetValue(resume),
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
            var result = TrainingDisplay.Run(trainer.Run, run.Settings.TotalSteps, run.Resumed?.Step ?? 0, parse.GetValue(quiet), interrupt);
            if (result.ValidationLoss is double v) Console.WriteLine($"validation loss {v.ToString("F4", CultureInfo.InvariantCulture)}");
            Console.WriteLine(result.Interrupted ? $"stopped at step {result.Steps}; checkpoint {result.LastCheckpoint} (continue with --resume)" : $"{(run.Adapters is null ? "model" : "adapter")}: {result.FinalModel}");
            return result.Interrupted ? 130 : 0;
        }));
        return command;
    }
}
