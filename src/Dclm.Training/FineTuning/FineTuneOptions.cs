using Dclm.Models.Adapters;
namespace Dclm.Training.FineTuning;

/// <summary>What trains: adapters over a float base, adapters over a quantized base, or every weight.</summary>
public enum FineTuneMethod
{
    /// <summary>LoRA adapters over a frozen f32, bf16 or f16 base.</summary>
    Lora,
    /// <summary>LoRA adapters over a frozen base kept in its stored quantized type (q8_0, q4_0, q4_k, q6_k).</summary>
    QLora,
    /// <summary>Every parameter, in fp32 (open_lm models).</summary>
    Full,
}

/// <summary>Everything <c>dclm finetune</c> is configured with; defaults follow PEFT and TRL's SFT trainer.</summary>
public sealed record FineTuneOptions
{
    /// <summary>The base model: a GGUF file or a Hugging Face directory.</summary>
    public required string Model { get; init; }
    /// <summary>JSON lines of messages, prompt/completion or text examples.</summary>
    public required string Data { get; init; }
    /// <summary>Run directory: adapter/ (or final/), checkpoints/, metrics.jsonl, loss.png.</summary>
    public required string Output { get; init; }
    /// <summary>What trains.</summary>
    public FineTuneMethod Method { get; init; } = FineTuneMethod.Lora;
    /// <summary>LoRA rank r.</summary>
    public int Rank { get; init; } = 16;
    /// <summary>LoRA α (the product is scaled by α / r).</summary>
    public double Alpha { get; init; } = 32;
    /// <summary>Dropout on each adapter's input.</summary>
    public double Dropout { get; init; } = 0.05;
    /// <summary>Projections that get adapters.</summary>
    public IReadOnlyList<LoraTarget> Targets { get; init; } = LoraTargets.All;
    /// <summary>Passes over the data (when <see cref="Steps"/> is 0).</summary>
    public double Epochs { get; init; } = 1;
    /// <summary>Optimizer updates; 0 = as many as <see cref="Epochs"/> take.</summary>
    public int Steps { get; init; }
    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 2e-4;
    /// <summary>Linear warmup updates; null = 3% of the run.</summary>
    public int? Warmup { get; init; }
    /// <summary>AdamW's decoupled weight decay.</summary>
    public double WeightDecay { get; init; }
    /// <summary>Global gradient-norm clip; 0 = off.</summary>
    public double GradientClip { get; init; } = 1.0;
    /// <summary>Tokens per packed sequence.</summary>
    public int SequenceLength { get; init; } = 1024;
    /// <summary>Sequences per micro-batch.</summary>
    public int BatchSize { get; init; } = 1;
    /// <summary>Micro-batches per update.</summary>
    public int GradientAccumulation { get; init; } = 8;
    /// <summary>Keep only each block's input and recompute its activations in the backward pass.</summary>
    public bool GradientCheckpointing { get; init; }
    /// <summary>Seed for the adapters' initialisation, the data order and dropout.</summary>
    public ulong Seed { get; init; } = 42;
    /// <summary>Compute threads; 0 = all cores.</summary>
    public int Threads { get; init; }
    /// <summary>Held-out examples; when null, <see cref="ValidationSplit"/> of the data is held out.</summary>
    public string? ValidationData { get; init; }
    /// <summary>Fraction of the examples held out for validation when no validation file is given.</summary>
    public double ValidationSplit { get; init; } = 0.05;
    /// <summary>Validate every this many updates; 0 = only at the end.</summary>
    public int EvalEvery { get; init; }
    /// <summary>Checkpoint every this many updates; 0 = only at the end and on Ctrl+C.</summary>
    public int CheckpointEvery { get; init; } = 100;
    /// <summary>Checkpoints kept.</summary>
    public int KeepCheckpoints { get; init; } = 2;
    /// <summary>Continue the run in <see cref="Output"/> from its newest checkpoint.</summary>
    public bool Resume { get; init; }

    /// <summary>Checks ranges and throws naming the offending flag.</summary>
    public FineTuneOptions Validate()
    {
        static void Require(bool ok, string message) { if (!ok) throw new ArgumentException(message); }
        Require(Rank >= 1 && Rank <= 4096, $"--lora-rank {Rank} must be in [1, 4096]");
        Require(Alpha > 0, $"--lora-alpha {Alpha} must be positive");
        Require(Dropout is >= 0 and < 1, $"--lora-dropout {Dropout} must be in [0, 1)");
        Require(Targets.Count > 0, "--target needs at least one projection");
        Require(Steps > 0 || Epochs > 0, "give --epochs above 0 or --steps");
        Require(Steps >= 0, $"--steps {Steps} must not be negative");
        Require(LearningRate > 0 && LearningRate < 10, $"--lr {LearningRate} must be in (0, 10)");
        Require(Warmup is null or >= 0, "--warmup must not be negative");
        Require(WeightDecay >= 0 && GradientClip >= 0, "--weight-decay and --grad-clip must not be negative");
        Require(SequenceLength >= 2 && SequenceLength <= 1 << 20, $"--seq-len {SequenceLength} must be in [2, 1048576]");
        Require(BatchSize >= 1 && GradientAccumulation >= 1, "--batch-size and --grad-accum must be at least 1");
        Require(ValidationSplit is >= 0 and < 1, $"--validation-split {ValidationSplit} must be in [0, 1)");
        Require(EvalEvery >= 0 && CheckpointEvery >= 0 && KeepCheckpoints >= 1, "--eval-every and --checkpoint-every must not be negative, --keep-checkpoints at least 1");
        return this;
    }
}
