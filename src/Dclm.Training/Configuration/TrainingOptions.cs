using Dclm.Training.Data;

namespace Dclm.Training.Configuration;

/// <summary>
/// Everything a training run is configured with. Keys in train.yaml and on the command line are the
/// snake_case names listed in <see cref="TrainingOptionsReader.Keys"/>; defaults follow DCLM.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Named data sources: token shards, .bin, .txt or .jsonl.</summary>
    public IReadOnlyDictionary<string, string> Sources { get; init; } = new Dictionary<string, string>();
    /// <summary>Mixing stages; empty = all sources, equal weight, for the whole run.</summary>
    public IReadOnlyList<MixingStage> Stages { get; init; } = [];
    /// <summary>Held-out validation data; when null, <see cref="ValidationFraction"/> of each source is held out.</summary>
    public string? ValidationData { get; init; }
    /// <summary>Fraction of each source's windows kept for validation when no validation data is given.</summary>
    public double ValidationFraction { get; init; } = 0.01;
    /// <summary>tokenizer.json or a GGUF with tokenizer metadata.</summary>
    public string? Tokenizer { get; init; }
    /// <summary>Run directory: checkpoints/, final/, metrics.jsonl, loss.png.</summary>
    public string Output { get; init; } = "runs/train";
    /// <summary>Continue training from this Hugging Face checkpoint or GGUF (its architecture wins over dim/layers/heads).</summary>
    public string? InitFrom { get; init; }
    /// <summary>
    /// Continual pretraining: the earlier domain's data, added as the source named "replay". It is held out like any
    /// source, so the forgetting report measures the old domain on it, and <see cref="ReplayFraction"/> of every stage is drawn from it.
    /// </summary>
    public string? ReplayData { get; init; }
    /// <summary>Share of each stage's samples drawn from <see cref="ReplayData"/> (0 = measured for forgetting only, never trained on).</summary>
    public double ReplayFraction { get; init; }

    /// <summary>Residual width.</summary>
    public int Dim { get; init; } = 256;
    /// <summary>Transformer blocks.</summary>
    public int Layers { get; init; } = 4;
    /// <summary>Attention heads.</summary>
    public int Heads { get; init; } = 4;
    /// <summary>Feed-forward width; 0 = open_lm's 256·ceil(int(8d/3)/256).</summary>
    public int HiddenDim { get; init; }
    /// <summary>Vocabulary rows; 0 = the tokenizer's size rounded up to a multiple of 64.</summary>
    public int VocabularySize { get; init; }
    /// <summary>Share the embedding with the output head (open_lm weight_tying).</summary>
    public bool TiedEmbeddings { get; init; }
    /// <summary>open_lm's qk-norm.</summary>
    public bool QkNorm { get; init; } = true;
    /// <summary>Sliding-window attention: each token sees the last this-many positions, itself included; 0 = off.</summary>
    public int SlidingWindow { get; init; }
    /// <summary>Position encoding by its config name: rotary, alibi, rotary_alibi (our extension) or none.</summary>
    public string Positions { get; init; } = "rotary";
    /// <summary>Training sequence length T (the model's context length too).</summary>
    public int SequenceLength { get; init; } = 256;

    /// <summary>Sequences per micro-batch.</summary>
    public int BatchSize { get; init; } = 8;
    /// <summary>Micro-batches whose gradients are summed per update.</summary>
    public int GradientAccumulation { get; init; } = 1;
    /// <summary>Optimizer updates; 0 = as many as the stages' token budgets need.</summary>
    public int Steps { get; init; } = 1000;
    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 3e-3;
    /// <summary>Learning rate at the end of the cosine decay.</summary>
    public double MinLearningRate { get; init; } = 3e-5;
    /// <summary>Linear warmup updates.</summary>
    public int Warmup { get; init; } = 100;
    /// <summary>Decoupled weight decay (not applied to norms).</summary>
    public double WeightDecay { get; init; } = 0.033;
    /// <summary>AdamW β₁.</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>AdamW β₂.</summary>
    public double Beta2 { get; init; } = 0.95;
    /// <summary>AdamW ε.</summary>
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>Global gradient-norm clip; 0 = off.</summary>
    public double GradientClip { get; init; } = 1.0;
    /// <summary>z-loss weight λ in λ·logsumexp².</summary>
    public double ZLoss { get; init; } = 1e-4;
    /// <summary>Seed for initialisation and data order.</summary>
    public ulong Seed { get; init; } = 1234;
    /// <summary>Under data parallelism: 0 = every rank holds AdamW's whole state, 1 = each holds 1/N (ZeRO-1).</summary>
    public int Zero { get; init; }
    /// <summary>Compute threads; 0 = all cores.</summary>
    public int Threads { get; init; }

    /// <summary>Validate every this many updates; 0 = only at the end.</summary>
    public int EvalEvery { get; init; } = 100;
    /// <summary>Validation micro-batches per evaluation (0 = all held-out windows).</summary>
    public int EvalBatches { get; init; } = 8;
    /// <summary>Checkpoint every this many updates; 0 = only at the end and on Ctrl+C.</summary>
    public int CheckpointEvery { get; init; } = 200;
    /// <summary>Checkpoints kept.</summary>
    public int KeepCheckpoints { get; init; } = 3;
    /// <summary>Write a metrics line every this many updates.</summary>
    public int LogEvery { get; init; } = 1;
    /// <summary>Element type of OUTPUT/final: f32, bf16 or f16 (checkpoints are always f32).</summary>
    public string FinalDtype { get; init; } = "f32";

    /// <summary>Checks ranges and throws with the offending key named.</summary>
    public TrainingOptions Validate()
    {
        static void Require(bool ok, string message) { if (!ok) throw new ArgumentException("training config: " + message); }
        Require(Sources.Count > 0, "data is required (data: path, or sources: {name: path})");
        Require(Dim > 0 && Layers > 0 && Heads > 0 && Dim % Heads == 0, $"dim {Dim} must be positive and divisible by heads {Heads}");
        Require(SlidingWindow >= 0, $"sliding_window {SlidingWindow} must be 0 (off) or positive");
        Require(Dclm.Checkpoints.PositionEncodingNames.Parse(Positions) is not null, $"positional_embedding_type '{Positions}' must be one of {Dclm.Checkpoints.PositionEncodingNames.Known}");
        Require(SequenceLength >= 1 && BatchSize >= 1 && GradientAccumulation >= 1, "seq_len, batch_size and grad_accum must be at least 1");
        Require(Steps >= 0 && Warmup >= 0, "steps and warmup must be non-negative");
        Require(LearningRate > 0 && MinLearningRate >= 0 && MinLearningRate <= LearningRate, "need lr > 0 and 0 ≤ min_lr ≤ lr");
        Require(Beta1 is >= 0 and < 1 && Beta2 is >= 0 and < 1 && Epsilon > 0, "beta1 and beta2 must be in [0, 1), eps positive");
        Require(WeightDecay >= 0 && GradientClip >= 0 && ZLoss >= 0, "weight_decay, grad_clip and z_loss must be non-negative");
        Require(ValidationFraction is >= 0 and < 1, "validation_fraction must be in [0, 1)");
        Require(EvalEvery >= 0 && EvalBatches >= 0 && CheckpointEvery >= 0 && KeepCheckpoints >= 1 && LogEvery >= 1, "eval/checkpoint/log intervals must be non-negative and keep_checkpoints at least 1");
        Require(Zero is 0 or 1, $"zero {Zero} must be 0 (optimizer state on every rank) or 1 (sharded across ranks)");
        Require(ReplayFraction is >= 0 and < 1, $"replay_fraction {ReplayFraction} must be in [0, 1)");
        Require(ReplayFraction == 0 || ReplayData is not null, "replay_fraction needs replay_data (the earlier domain's data)");
        Require(ReplayData is null || !Sources.ContainsKey(ReplayMix.SourceName), $"a source is already named '{ReplayMix.SourceName}', the name replay_data takes");
        Require(FinalDtype is "f32" or "bf16" or "f16", $"final_dtype '{FinalDtype}' must be f32, bf16 or f16");
        Require(Steps > 0 || Stages.Count > 0 && Stages.All(s => s.Tokens > 0), "steps: 0 needs every stage to have a token budget");
        return this;
    }

    /// <summary>Sequences per optimizer update.</summary>
    public int SequencesPerStep => BatchSize * GradientAccumulation;

    /// <summary>The number of updates: <see cref="Steps"/>, or enough for the stages' token budgets.</summary>
    public int TotalSteps => Steps > 0 ? Steps : (int)Math.Ceiling(Stages.Sum(s => (double)s.Tokens) / ((double)SequencesPerStep * SequenceLength));
}
