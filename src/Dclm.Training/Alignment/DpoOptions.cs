using Dclm.Training.FineTuning;

namespace Dclm.Training.Alignment;

/// <summary>
/// Everything <c>dclm align --method dpo</c> is configured with: the training flags <c>dclm finetune</c> takes (its
/// --seq-len is the longest prompt + completion kept, its --batch-size counts pairs) and the preference objective's.
/// Defaults follow TRL's DPOTrainer.
/// </summary>
public sealed record DpoOptions
{
    /// <summary>Model, data, output, adapters, schedule, checkpoints; the method (LoRA or QLoRA) follows the base's stored type.</summary>
    public required FineTuneOptions Training { get; init; }
    /// <summary>β: how far the policy may move from the reference (the implicit reward's scale).</summary>
    public double Beta { get; init; } = 0.1;
    /// <summary>The objective.</summary>
    public PreferenceLossKind Loss { get; init; } = PreferenceLossKind.Sigmoid;
    /// <summary>ε of conservative DPO: the assumed probability that a pair's preference is flipped (sigmoid loss only).</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>Checks ranges and throws naming the offending flag.</summary>
    public DpoOptions Validate()
    {
        Training.Validate();
        if (Training.Method == FineTuneMethod.Full) throw new ArgumentException("alignment trains adapters (the reference is the base without them): use --method lora or qlora");
        if (!(Beta > 0 && Beta <= 100)) throw new ArgumentException($"--beta {Beta} must be in (0, 100]");
        if (LabelSmoothing is < 0 or >= 0.5) throw new ArgumentException($"--label-smoothing {LabelSmoothing} must be in [0, 0.5)");
        if (LabelSmoothing > 0 && Loss != PreferenceLossKind.Sigmoid) throw new ArgumentException("--label-smoothing applies to the sigmoid (DPO) loss only");
        return this;
    }
}
