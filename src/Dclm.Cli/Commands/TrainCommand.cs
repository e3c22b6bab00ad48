using System.CommandLine;
using System.Globalization;
using Dclm.Training;
using Dclm.Training.Configuration;
using Dclm.Training.Distributed;
using Dclm.Training.Reporting;

namespace Dclm.Cli.Commands;

/// <summary>`dclm train`: pretrain or continue training an open_lm (DCLM) model from train.yaml, every key overridable.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "train.yaml; flags override its keys" };
        var quiet = new Option<bool>("--no-progress") { Description = "print one line per update instead of a progress bar" };
        var command = new Command("train", "Pretrain or continue training a DCLM-architecture model on the CPU (Ctrl+C saves a checkpoint and exits)") { config, quiet };
        var overrides = new List<(string Key, Option<string?> Option)>();
        foreach (var (key, description) in TrainingOptionsReader.Keys)
        {
            var option = new Option<string?>("--" + key.Replace('_', '-')) { Description = description };
            overrides.Add((key, option));
            command.Options.Add(option);
        }
        // Ctrl+C cancels the token (see Terminal.Interrupts); the trainer stops between two blocks of the model, drops the half-done
        // update and checkpoints the last completed one, so --resume repeats the dropped update exactly (under mpirun it finishes the update).
        // Under mpirun/srun every rank runs this; --batch-size is the global batch, split among the ranks.
        command.SetAction((parse, interrupt) => ProcessGroup.Run(group =>
        {
            var values = new Dictionary<string, string>();
            foreach (var (key, option) in overrides)
                if (parse.GetValue(option) is string value) values[key] = value;
            var options = WithDefaultTokenizer(TrainingOptionsReader.Read(parse.GetValue(config), values), group.IsRoot);
            var parallel = new DataParallel(group, options.Zero);
            parallel.LocalBatch(options.BatchSize);
            var log = ProcessGroup.RootLog(parallel);
            using var run = TrainingRun.Create(options, log);
            var trainer = new Trainer(run, parallel);
            long parameters = run.Parameters.Count;
            log($"model: dim {run.Model.Config.Dim}, layers {run.Model.Config.Layers}, heads {run.Model.Config.Heads}, vocab {run.Model.Config.VocabularySize}, {parameters:N0} parameters; {options.TotalSteps} updates of {options.SequencesPerStep * options.SequenceLength:N0} tokens");
            ProcessGroup.Describe(parallel, options.BatchSize, run.Optimizer.StateBytes, log);
            if (!parallel.IsRoot) return trainer.Run(null, interrupt).Interrupted ? 130 : 0;
            // A continual run (init_from) measures every held-out domain before and after: the forgetting report.
            var forgetting = options.InitFrom is not null ? ForgettingReport.Begin(run) : null;
            var result = TrainingDisplay.Run(trainer.Run, options.TotalSteps, run.Resumed?.Step ?? 0, parse.GetValue(quiet), interrupt);
            if (result.ValidationLoss is double v)
                Console.WriteLine($"validation loss {v.ToString("F4", CultureInfo.InvariantCulture)} (perplexity {Math.Exp(v).ToString("F2", CultureInfo.InvariantCulture)})");
            if (forgetting is not null && !result.Interrupted)
                Console.WriteLine(forgetting.Complete(run).Format() + $"\n(written to {Path.Combine(options.Output, ForgettingReport.FileName)})");
            Console.WriteLine(result.Interrupted ? $"stopped at step {result.Steps}; checkpoint {result.LastCheckpoint}" : $"final model: {result.FinalModel}");
            return result.Interrupted ? 130 : 0;
        }));
        return command;
    }

    /// <summary>
    /// Text data needs a tokenizer, and a fresh model's vocabulary comes from one. Without --tokenizer, DCLM's own
    /// (GPT-NeoX-20B, the one inside the built-in model) is used, and the run says so; token shards with
    /// --vocab-size, or --init-from with token shards, need none.
    /// </summary>
    private static TrainingOptions WithDefaultTokenizer(TrainingOptions options, bool announce)
    {
        if (options.Tokenizer is not null) return options;
        bool needsVocabulary = options.InitFrom is null && options.VocabularySize == 0;
        bool hasText = options.Sources.Values.Append(options.ValidationData).OfType<string>().Any(IsText);
        if (!needsVocabulary && !hasText) return options;
        string model = DefaultModel.Locate() is { } found && File.Exists(found) ? found : throw new ArgumentException(
            $"no --tokenizer given, and the built-in model ({DefaultModel.RelativePath}) that carries DCLM's GPT-NeoX-20B tokenizer was not found; pass --tokenizer (tokenizer.json or a GGUF)");
        if (announce) Console.Error.WriteLine($"no --tokenizer given: using DCLM's GPT-NeoX-20B tokenizer from {model}");
        return options with { Tokenizer = model };
    }

    /// <summary>Text the run must tokenize (.txt, .md, .jsonl), as opposed to token shards.</summary>
    private static bool IsText(string path) => Path.GetExtension(path).ToLowerInvariant() is ".txt" or ".md" or ".jsonl";
}
