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
    /// <summary>
    /// A smaller model (directory or GGUF) sharing the model's vocabulary, for speculative decoding
    /// (<see cref="EngineOptions.DraftModel"/>); loaded beside the model with the same threads and weight loading. Null = none.
    /// </summary>
    public string? DraftModelPath { get; init; }
    /// <summary>Refuse to load a model whose chat template the engine cannot render, instead of using a built-in layout with a warning.</summary>
    public bool StrictChatTemplate { get; init; }
    /// <summary>The clock chat templates read the date from (<c>strftime_now</c>); tests fix it.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
    /// <summary>LoRA adapters (PEFT directories) served beside the base under their own model names.</summary>
    public IReadOnlyList<AdapterSource> Adapters { get; init; } = [];
    /// <summary>Whether adapters may be loaded while the host runs (<see cref="ModelHost.LoadAdapter"/>).</summary>
    public bool AllowAdapterLoading { get; init; }
    /// <summary>
    /// Puts the loaded CPU model on the device the engine runs it on (the GPU backend, <c>Dclm.Gpu.DeviceModel</c>) and
    /// returns that model, which the host disposes when it is not the CPU model itself; null runs the CPU engine. With
    /// adapters, the returned model must run them itself (<see cref="Dclm.Models.Adapters.IAdapterRunner"/>, as the GPU
    /// backend does); the host hands it the adapter set.
    /// </summary>
    public Func<Dclm.Models.DecoderModel, Dclm.Models.IDecoderModel>? Device { get; init; }
}

/// <summary>A LoRA adapter to serve: the model name clients pass, and its PEFT directory.</summary>
/// <param name="Name">The name requests give as "model".</param>
/// <param name="Path">The directory holding adapter_config.json and adapter_model.safetensors.</param>
public sealed record AdapterSource(string Name, string Path)
{
    /// <summary>
    /// Parses NAME=PATH, or a bare PATH named as <see cref="Checkpoints.Adapters.PeftAdapter.DefaultName"/> names it.
    /// </summary>
    public static AdapterSource Parse(string text)
    {
        int equals = text.IndexOf('=');
        if (equals > 0) return new AdapterSource(text[..equals], text[(equals + 1)..]);
        if (equals == 0) throw new ArgumentException($"--lora '{text}': the adapter's name is empty (NAME=PATH)");
        return new AdapterSource(Checkpoints.Adapters.PeftAdapter.DefaultName(text), text);
    }
}
