using Dclm.Tensors.Compute;
using Dclm.Training.Checkpointing;
using Dclm.Training.Optimization;

namespace Dclm.Training;

/// <summary>What the training loop needs to know about a run's schedule.</summary>
public sealed record TrainerSettings
{
    /// <summary>Optimizer updates in the whole run.</summary>
    public required int TotalSteps { get; init; }
    /// <summary>Sequences per micro-batch.</summary>
    public required int BatchSize { get; init; }
    /// <summary>Tokens per sequence.</summary>
    public required int SequenceLength { get; init; }
    /// <summary>Micro-batches per update.</summary>
    public int GradientAccumulation { get; init; } = 1;
    /// <summary>Peak learning rate, after the warmup.</summary>
    public required double LearningRate { get; init; }
    /// <summary>Learning rate at the end of the cosine decay.</summary>
    public double MinLearningRate { get; init; }
    /// <summary>Linear warmup updates.</summary>
    public int Warmup { get; init; }
    /// <summary>Global gradient-norm clip; 0 = off.</summary>
    public double GradientClip { get; init; } = 1.0;
    /// <summary>z-loss weight.</summary>
    public double ZLoss { get; init; }
    /// <summary>Validate every this many updates; 0 = only at the end.</summary>
    public int EvalEvery { get; init; }
    /// <summary>Checkpoint every this many updates; 0 = only at the end and on cancellation.</summary>
    public int CheckpointEvery { get; init; }
    /// <summary>Write a metrics line every this many updates.</summary>
    public int LogEvery { get; init; } = 1;
    /// <summary>The run's seed (data order, dropout).</summary>
    public ulong Seed { get; init; }
    /// <summary>Run directory: metrics.jsonl, loss.png, checkpoints.</summary>
    public required string Output { get; init; }
    /// <summary>Sequences per update.</summary>
    public int SequencesPerStep => BatchSize * GradientAccumulation;
}

/// <summary>
/// A run the <see cref="Trainer"/> drives: pretraining (<see cref="TrainingRun"/>) and fine-tuning share the loop
/// and differ in their data, what trains and what they write.
/// </summary>
public interface ITrainingRun
{
    /// <summary>Schedule and intervals.</summary>
    TrainerSettings Settings { get; }
    /// <summary>The model being trained.</summary>
    TrainingModel Model { get; }
    /// <summary>AdamW over the model's trainable tensors.</summary>
    AdamW Optimizer { get; }
    /// <summary>Compute threads.</summary>
    ComputePool Pool { get; }
    /// <summary>Where checkpoints go.</summary>
    CheckpointStore Checkpoints { get; }
    /// <summary>The state restored from a checkpoint, or null for a fresh run.</summary>
    TrainerState? Resumed { get; }
    /// <summary>Names of the data sources, saved with checkpoints.</summary>
    string[] SourceNames { get; }
    /// <summary>The training stream.</summary>
    ITrainingData Data { get; }
    /// <summary>Held-out batches, each filled when enumerated; empty without validation data.</summary>
    IEnumerable<TrainingBatch> ValidationBatches();
    /// <summary>Writes the trained weights into a checkpoint directory.</summary>
    void WriteWeights(string directory);
    /// <summary>Writes the run's final result and returns where it is.</summary>
    string WriteFinal();
}
