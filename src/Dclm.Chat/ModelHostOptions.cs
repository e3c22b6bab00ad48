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
    /// <summary>Copy the weights into memory instead of mapping the file (faster decode, private memory).</summary>
    public bool CopyWeights { get; init; }
    /// <summary>Engine sizes: parallel sequences, context, KV blocks, queue, prefix cache.</summary>
    public EngineOptions Engine { get; init; } = new();
    /// <summary>Refuse to load a model whose chat template the engine cannot render, instead of using a built-in layout with a warning.</summary>
    public bool StrictChatTemplate { get; init; }
    /// <summary>The clock chat templates read the date from (<c>strftime_now</c>); tests fix it.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}
