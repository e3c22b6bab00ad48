using Dclm.Inference.Engine;

namespace Dclm.Chat;

/// <summary>What a <see cref="ModelHost"/> loads and how it runs it: the model, its name, threads, weights and engine sizes.</summary>
public record ModelHostOptions
{
    /// <summary>Model directory or GGUF file.</summary>
    public required string ModelPath { get; init; }
    /// <summary>Name clients pass as "model"; defaults to the model file or directory name.</summary>
    public string? ModelName { get; init; }
    /// <summary>Compute threads; 0 = all cores.</summary>
    public int Threads { get; init; }
    /// <summary>Copy the weights into memory or map the file; by default copied when they fit (faster decode).</summary>
    public Checkpoints.WeightLoading WeightLoading { get; init; }
    /// <summary>Engine sizes: parallel sequences, context, KV blocks, queue, prefix cache.</summary>
    public EngineOptions Engine { get; init; } = new();
}
