using System.CommandLine;

namespace Dclm.Cli.Commands;

/// <summary>Options several commands share.</summary>
internal static class ModelOptions
{
    public static Option<string> Model(bool required = true) =>
        new("--model") { Description = "model: a Hugging Face checkpoint directory or a GGUF file" + (required ? $" (default: the built-in {DefaultModel.RelativePath})" : ""), Required = required && DefaultModel.Locate() is null, DefaultValueFactory = required && DefaultModel.Locate() is string builtIn ? _ => builtIn : null };

    /// <summary>
    /// --kv-type: f32 is exact; int8 (a scale per position and head) holds 3.8 times the positions per MiB
    /// for 64- to 128-wide heads and reads a quarter of the bytes in attention.
    /// </summary>
    public static Option<string> KvType(string defaultType)
    {
        var option = new Option<string>("--kv-type") { Description = $"KV cache storage: f32 (exact) or int8 (3.8x the positions per MiB for 64- to 128-wide heads, faster batched attention); default {defaultType}", DefaultValueFactory = _ => defaultType };
        option.AcceptOnlyFromAmong("f32", "int8");
        return option;
    }

    public static Dclm.Models.KvCacheType ParseKvType(string? type) => type == "int8" ? Dclm.Models.KvCacheType.Int8 : Dclm.Models.KvCacheType.F32;

    /// <summary>--lora PATH: a PEFT adapter directory applied on the model's projections (nothing merged).</summary>
    public static Option<string?> Lora() =>
        new("--lora") { Description = "apply a LoRA adapter: a PEFT directory (adapter_config.json, adapter_model.safetensors), e.g. runs/NAME/adapter" };

    /// <summary>
    /// Attaches the adapter in <paramref name="path"/> (when given) to <paramref name="loaded"/> for every sequence it runs,
    /// and returns the set, which a device model opened from <paramref name="loaded"/> serves too (<see cref="DeviceOptions.Open"/>).
    /// </summary>
    public static Dclm.Models.Adapters.AdapterSet? ApplyLora(Checkpoints.LoadedModel loaded, string? path)
    {
        if (path is null) return null;
        var adapters = new Dclm.Models.Adapters.AdapterSet(loaded.Model);
        int id = Checkpoints.Adapters.PeftAdapter.Load(adapters, Checkpoints.Adapters.PeftAdapter.DefaultName(path), path);
        adapters.UseEverywhere(id);
        var weights = adapters[id];
        Console.Error.WriteLine($"adapter: {path} ({weights.Updates.Count} projection updates on {weights.TargetNames})");
        return adapters;
    }

    /// <summary>--mmap: map the weights from the file instead of copying them into memory.</summary>
    public static Option<bool> Mmap() =>
        new("--mmap") { Description = "map the weights from the file and use them in place (instant load, shared page cache; decode can be many times slower) instead of copying them into memory when they fit" };

    /// <summary>--no-mmap: copy the weights into memory even when the available-memory check would map them.</summary>
    public static Option<bool> NoMmap() =>
        new("--no-mmap") { Description = "copy the weights into memory (2 MB pages where granted) even when available memory looks short" };

    public static Option<int> Threads() =>
        new("--threads") { Description = "compute threads (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
}

/// <summary>--device, shared by the commands that run a model.</summary>
internal static class DeviceOptions
{
    public static Option<string> Device() =>
        new("--device") { Description = "where the layers run: cpu (default), cuda or cuda:N (an NVIDIA GPU through ILGPU), cpu-accel (ILGPU's CPU accelerator, slow, for testing)", DefaultValueFactory = _ => "cpu" };

    /// <summary>
    /// Checks before any weights load that <paramref name="device"/> can be opened (a one-line
    /// <see cref="Gpu.GpuUnavailableException"/> when not).
    /// </summary>
    public static void Check(string device)
    {
        if (!Gpu.GpuDevice.IsAccelerator(device)) return;
        using var probe = Gpu.GpuDevice.Open(device);
    }

    /// <summary>
    /// The KV cache type of a batching command (serve, chat): as given, else the option's default on the CPU and
    /// f32 on a device, whose backend keeps keys and values as f32 only (an explicit int8 there is an error).
    /// </summary>
    public static Dclm.Models.KvCacheType KvType(ParseResult parse, Option<string> kvType, string device)
    {
        if (!Gpu.GpuDevice.IsAccelerator(device)) return ModelOptions.ParseKvType(parse.GetValue(kvType));
        if (parse.GetResult(kvType) is { Implicit: false } && parse.GetValue(kvType) != "f32")
            throw new ArgumentException($"--kv-type {parse.GetValue(kvType)} runs on the CPU only (the GPU backend keeps f32 keys and values); drop it or --device");
        return Dclm.Models.KvCacheType.F32;
    }

    /// <summary>What a <see cref="Chat.ModelHost"/> runs the loaded model on: null for the CPU, else the model opened on <paramref name="device"/>.</summary>
    public static Func<Dclm.Models.DecoderModel, Dclm.Models.IDecoderModel>? Placement(string device) =>
        Gpu.GpuDevice.IsAccelerator(device) ? model => Open(model, device).Model : null;

    /// <summary>
    /// The loaded model on <paramref name="device"/> (serving <paramref name="adapters"/>, from
    /// <see cref="ModelOptions.ApplyLora"/>, when given), saying where when that is not the CPU.
    /// </summary>
    public static Gpu.DeviceModel Open(Dclm.Models.DecoderModel model, string? device, Dclm.Models.Adapters.AdapterSet? adapters = null)
    {
        var opened = Gpu.DeviceModel.Open(model, device ?? "cpu", adapters: adapters);
        if (opened.Model != model) Console.Error.WriteLine($"device: {opened.Description}");
        return opened;
    }
}
