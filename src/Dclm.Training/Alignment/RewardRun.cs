using Dclm.Checkpoints;
using Dclm.Training.FineTuning;
using Dclm.Training.FineTuning.Data;

namespace Dclm.Training.Alignment;

/// <summary>
/// Training a reward model (<c>dclm train-reward</c>): the frozen base with LoRA adapters and a scalar
/// <see cref="RewardHead"/> on the last token's final hidden state, fitted to preference pairs with the Bradley–Terry
/// loss. OUTPUT receives <c>adapter/</c> (PEFT layout) and <see cref="RewardHead.FileName"/>; <see cref="RewardModel"/>
/// loads the pair back. <see cref="PreferenceTrainer"/> drives it.
/// </summary>
public sealed class RewardRun : PreferenceRun
{
    private RewardRun(Prepared prepared, RewardHead head, int length) : base(prepared, [head.Weight])
    {
        Head = head;
        Objective = new RewardObjective(Model, head, length);
    }

    /// <summary>The scalar head being trained.</summary>
    public RewardHead Head { get; }
    /// <summary>The Bradley–Terry loss through the model and the head.</summary>
    public RewardObjective Objective { get; }

    /// <inheritdoc/>
    public override string Method => "reward";

    /// <inheritdoc/>
    protected override string RunFile => "reward.json";

    /// <summary>Loads the base and the pairs, builds the adapters and the head and, with --resume, restores the newest checkpoint.</summary>
    public static RewardRun Create(FineTuneOptions options, Func<LoadedModel, IChatRenderer?>? chat = null, Action<string>? log = null, CancellationToken cancellation = default)
    {
        options.Validate();
        if (options.Method == FineTuneMethod.Full) throw new ArgumentException("a reward model trains adapters and a head over the frozen base: use --method lora or qlora");
        // The reward reads the last token, so a side is --seq-len tokens at most.
        var prepared = Prepare(options, "reward.json", o => o.SequenceLength, chat, log, cancellation);
        try
        {
            int length = prepared.Training.Concat(prepared.Validation).Max(p => p.Length);
            var run = new RewardRun(prepared, RewardHead.Create(prepared.Loaded.Config.Dim, prepared.Options.Seed), length);
            run.Start(log);
            return run;
        }
        catch
        {
            prepared.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public override PreferenceTerms Accumulate(int index, double weight) => Objective.Accumulate(Training[index], weight);

    /// <inheritdoc/>
    public override PreferenceTerms Evaluate(int index) => Objective.Evaluate(Validation[index]);

    /// <summary>OUTPUT/adapter (PEFT layout), then OUTPUT/<see cref="RewardHead.FileName"/>; returns OUTPUT, the reward model's directory.</summary>
    public override string WriteFinal()
    {
        base.WriteFinal();
        Head.Write(Settings.Output);
        return Settings.Output;
    }

    /// <inheritdoc/>
    protected override Dictionary<string, string> MethodRecord() => [];
}
