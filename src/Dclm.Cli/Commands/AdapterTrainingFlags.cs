using System.CommandLine;
using Dclm.Models.Adapters;
using Dclm.Training.FineTuning;

namespace Dclm.Cli.Commands;

/// <summary>
/// The training flags dclm finetune, dclm align and dclm train-reward share (model, data, output, adapters, schedule,
/// validation, checkpoints, resume), read into one <see cref="FineTuneOptions"/>. <paramref name="defaults"/> gives the
/// defaults that differ between commands.
/// </summary>
internal sealed class AdapterTrainingFlags(FineTuneOptions defaults, string dataDescription, string outputDescription, string sequenceDescription, string batchDescription,
    bool dataRequired = true)
{
    public Option<string> Model { get; } = ModelOptions.Model();
    public Option<string> Data { get; } = new("--data") { Description = dataDescription, Required = dataRequired };
    public Option<string> Output { get; } = new("--output") { Description = outputDescription, Required = true };
    public Option<int> Rank { get; } = new("--lora-rank") { Description = "adapter rank r", DefaultValueFactory = _ => defaults.Rank };
    public Option<double> Alpha { get; } = new("--lora-alpha") { Description = "adapter α (scale α / r)", DefaultValueFactory = _ => defaults.Alpha };
    public Option<string> Target { get; } = new("--target") { Description = "projections with adapters: any of q,k,v,o,gate,up,down (or all)", DefaultValueFactory = _ => string.Join(",", defaults.Targets.Select(LoraTargets.Name)) };
    public Option<double> Epochs { get; } = new("--epochs") { Description = "passes over the data", DefaultValueFactory = _ => defaults.Epochs };
    public Option<int> Steps { get; } = new("--steps") { Description = "optimizer updates (instead of --epochs)" };
    public Option<double> LearningRate { get; } = new("--lr") { Description = "peak learning rate (warmup, then cosine decay to 0)", DefaultValueFactory = _ => defaults.LearningRate };
    public Option<int?> Warmup { get; } = new("--warmup") { Description = "warmup updates (default: a fraction of the run)" };
    public Option<double> WeightDecay { get; } = new("--weight-decay") { Description = "AdamW weight decay", DefaultValueFactory = _ => defaults.WeightDecay };
    public Option<double> GradientClip { get; } = new("--grad-clip") { Description = "global gradient-norm clip (0: off)", DefaultValueFactory = _ => defaults.GradientClip };
    public Option<int> SequenceLength { get; } = new("--seq-len") { Description = sequenceDescription, DefaultValueFactory = _ => defaults.SequenceLength };
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = batchDescription, DefaultValueFactory = _ => defaults.BatchSize };
    public Option<int> Accumulation { get; } = new("--grad-accum") { Description = "micro-batches per update", DefaultValueFactory = _ => defaults.GradientAccumulation };
    public Option<bool> Checkpointing { get; } = new("--gradient-checkpointing") { Description = "keep only each layer's input and recompute it in the backward pass (less memory, ~1/3 more compute)" };
    public Option<ulong> Seed { get; } = new("--seed") { Description = "seed of the adapters, the data order and dropout", DefaultValueFactory = _ => defaults.Seed };
    public Option<int> Threads { get; } = ModelOptions.Threads();
    public Option<string?> Validation { get; } = new("--validation-data") { Description = "held-out data (default: --validation-split of the data)" };
    public Option<double> Split { get; } = new("--validation-split") { Description = "fraction held out when there is no --validation-data (needs 10 or more)", DefaultValueFactory = _ => defaults.ValidationSplit };
    public Option<int> EvalEvery { get; } = new("--eval-every") { Description = "validate every N updates (0: at the end)" };
    public Option<int> CheckpointEvery { get; } = new("--checkpoint-every") { Description = "checkpoint every N updates (0: at the end and on Ctrl+C)", DefaultValueFactory = _ => defaults.CheckpointEvery };
    public Option<bool> Resume { get; } = new("--resume") { Description = "continue the run in --output from its newest checkpoint" };
    public Option<bool> Quiet { get; } = new("--no-progress") { Description = "print one line per update instead of a progress bar" };

    /// <summary>Adds every flag to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { Model, Data, Output, Rank, Alpha, Target, Epochs, Steps, LearningRate, Warmup, WeightDecay, GradientClip,
            SequenceLength, BatchSize, Accumulation, Checkpointing, Seed, Threads, Validation, Split, EvalEvery, CheckpointEvery, Resume, Quiet })
            command.Options.Add(option);
    }

    /// <summary>The options as parsed, over the command's defaults.</summary>
    public FineTuneOptions Read(ParseResult parse) => defaults with
    {
        Model = parse.GetValue(Model)!, Data = parse.GetValue(Data) ?? "", Output = parse.GetValue(Output)!,
        Rank = parse.GetValue(Rank), Alpha = parse.GetValue(Alpha), Targets = LoraTargets.Parse(parse.GetValue(Target)!),
        Epochs = parse.GetValue(Epochs), Steps = parse.GetValue(Steps), LearningRate = parse.GetValue(LearningRate), Warmup = parse.GetValue(Warmup),
        WeightDecay = parse.GetValue(WeightDecay), GradientClip = parse.GetValue(GradientClip), SequenceLength = parse.GetValue(SequenceLength),
        BatchSize = parse.GetValue(BatchSize), GradientAccumulation = parse.GetValue(Accumulation), GradientCheckpointing = parse.GetValue(Checkpointing),
        Seed = parse.GetValue(Seed), Threads = parse.GetValue(Threads), ValidationData = parse.GetValue(Validation), ValidationSplit = parse.GetValue(Split),
        EvalEvery = parse.GetValue(EvalEvery), CheckpointEvery = parse.GetValue(CheckpointEvery), Resume = parse.GetValue(Resume),
    };
}
